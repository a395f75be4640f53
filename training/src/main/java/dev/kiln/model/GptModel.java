package dev.kiln.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.function.Function;

/**
 * Builds the decoder-only transformer as a DL4J {@link ComputationGraph}:
 * <pre>
 *   tokens [B, 1, T] -> wte (EmbeddingSequence, NCW) -> + wpe -> block_0 .. block_{L-1} -> lnf
 *                    -> head (FusedLmHead: logits, softmax over V, sparse cross-entropy on ids [B, 1, T], in one pass)
 * </pre>
 * Tied ({@link GptConfig#tiedEmbeddings}, GPT-2): {@code wte} is a {@link TokenEmbedding} and the head a
 * {@link TiedLmHead} that uses {@code wte}'s matrix; every graph must then be tied with {@link #tie} once made or
 * loaded ({@link #build} does it).
 * Activations between layers are {@code [B, C, T]}. DL4J's score is the cross-entropy summed over the T
 * positions and averaged over the batch (plus the weight-decay term); {@link #meanLoss} reports nats per token.
 */
public final class GptModel {
    /** GPT-2's initialisation standard deviation. */
    static final double INIT_STD = 0.02;

    public static final String INPUT = "tokens";
    public static final String TOKEN_EMBEDDING = "wte";
    public static final String POSITION_EMBEDDING = "wpe";
    public static final String FINAL_NORM = "lnf";
    public static final String HEAD = "head";

    private GptModel() {
    }

    /** The name of block {@code i}. (No underscores in layer names: DL4J's updater splits parameter keys at '_'.) */
    public static String block(int i) {
        return "block" + i;
    }

    /**
     * A new, initialised model. {@code updater} carries the learning rate (schedule); {@code weightDecay} is
     * decoupled (AdamW: {@code w -= lr * wd * w} after the update) and applies to matrices and embeddings only,
     * not to biases and LayerNorm gains. The seed fixes the initial weights.
     */
    public static ComputationGraph build(GptConfig cfg, IUpdater updater, double weightDecay, long seed, DataType dataType) {
        ComputationGraph graph = new ComputationGraph(configuration(cfg, updater, weightDecay, seed, dataType));
        Nd4j.getRandom().setSeed(seed); // the custom layers draw their initial weights from ND4J's global generator
        graph.init();
        return tie(graph);
    }

    /**
     * Turns activation checkpointing on or off in every {@link TransformerBlock} of {@code graph} (see
     * {@link TransformerBlockLayer}): a training step then holds one block's intermediates at a time instead of all
     * of them, for a third more block compute. A choice of the run, not saved with the model. Returns {@code graph}.
     */
    public static ComputationGraph recomputeActivations(ComputationGraph graph, boolean on) {
        for (var layer : graph.getLayers()) {
            if (layer instanceof TransformerBlockLayer block) {
                block.recomputeActivations(on);
            }
        }
        return graph;
    }

    /**
     * Hands a tied head its token embedding ({@link TiedLmHead}, {@link TokenEmbedding}): call it after any graph is
     * made or loaded (checkpoints, replicas on executors, fine-tune parents). Does nothing for an untied graph or a
     * graph without an LM head; idempotent. Returns {@code graph}.
     */
    public static ComputationGraph tie(ComputationGraph graph) {
        if (graph.getVertex(HEAD) != null && graph.getLayer(HEAD) instanceof FusedLmHeadLayer head && head.tied()) {
            if (!(graph.getLayer(TOKEN_EMBEDDING) instanceof TokenEmbedding.Impl wte)) {
                throw new IllegalStateException("a tied LM head needs a TokenEmbedding named " + TOKEN_EMBEDDING + ", found "
                        + graph.getLayer(TOKEN_EMBEDDING));
            }
            head.tie(wte);
        }
        return graph;
    }

    /** Whether the graph's LM head is tied to its token embedding. */
    public static boolean isTied(ComputationGraph graph) {
        return graph.getVertex(HEAD) != null && graph.getLayer(HEAD) instanceof FusedLmHeadLayer head && head.tied();
    }

    public static ComputationGraphConfiguration configuration(GptConfig cfg, IUpdater updater, double weightDecay,
                                                              long seed, DataType dataType) {
        return configuration(cfg, updater, weightDecay, seed, dataType, HEAD, lmHead(cfg), Trunk.HAND_WRITTEN);
    }

    /**
     * The fused LM head: logits, softmax over V and sparse cross-entropy in one pass; tied ({@link TiedLmHead}, no
     * parameters) or with its own weights, and a bias when {@link GptConfig#headBias} (GPT-2's initialisation).
     */
    public static FusedLmHead lmHead(GptConfig cfg) {
        if (cfg.tiedEmbeddings()) {
            return new TiedLmHead(cfg.dModel(), cfg.vocabSize());
        }
        WeightInitDistribution normal = new WeightInitDistribution(new NormalDistribution(0, INIT_STD));
        return new FusedLmHead.Builder().nIn(cfg.dModel()).nOut(cfg.vocabSize()).weightInit(normal)
                .hasBias(cfg.headBias()).build();
    }

    /**
     * The layers between the token embedding and the head, made for a shape: the position embedding, one block (called
     * once per layer) and the final LayerNorm. Models use {@link #HAND_WRITTEN}; the tests build the same graph from
     * SameDiff implementations of the same math to check the hand-written layers against.
     */
    public record Trunk(Function<GptConfig, Layer> positionEmbedding, Function<GptConfig, Layer> block,
                        Function<GptConfig, Layer> finalNorm) {
        public static final Trunk HAND_WRITTEN = new Trunk(
                c -> new PositionEmbedding(c.dModel(), c.contextLength()),
                TransformerBlock::new,
                c -> new FinalLayerNorm(c.dModel(), c.contextLength()));
    }

    /**
     * The same transformer with another output layer on top of the final LayerNorm (a classification head for
     * fine-tuning, see {@link ClassifierModel}), named {@code headName}.
     */
    public static ComputationGraphConfiguration configuration(GptConfig cfg, IUpdater updater, double weightDecay,
                                                              long seed, DataType dataType, String headName,
                                                              Layer outputLayer, Trunk trunk) {
        NeuralNetConfiguration.Builder base = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dataType)
                .updater(updater)
                // Workspaces: with NONE, 2.2-2.4x slower and several GB more memory (measured on DL4J 1.0.0-M2.1).
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED);
        if (weightDecay > 0) {
            base.weightDecay(weightDecay, true).weightDecayBias(0.0, true);
        }
        WeightInitDistribution normal = new WeightInitDistribution(new NormalDistribution(0, INIT_STD));
        ComputationGraphConfiguration.GraphBuilder g = base.graphBuilder().addInputs(INPUT);
        // nIn/nOut are explicit: setInputTypes would reset the embedding's nIn to 1 in M2.1.
        g.addLayer(TOKEN_EMBEDDING, cfg.tiedEmbeddings()
                ? new TokenEmbedding(cfg.vocabSize(), cfg.dModel(), cfg.contextLength())
                : new EmbeddingSequenceLayer.Builder()
                .nIn(cfg.vocabSize()).nOut(cfg.dModel()).inputLength(cfg.contextLength())
                .outputDataFormat(RNNFormat.NCW).hasBias(false).weightInit(normal).build(), INPUT);
        g.addLayer(POSITION_EMBEDDING, trunk.positionEmbedding().apply(cfg), TOKEN_EMBEDDING);
        String previous = POSITION_EMBEDDING;
        for (int i = 0; i < cfg.layers(); i++) {
            g.addLayer(block(i), trunk.block().apply(cfg), previous);
            previous = block(i);
        }
        g.addLayer(FINAL_NORM, trunk.finalNorm().apply(cfg), previous);
        g.addLayer(headName, outputLayer, FINAL_NORM);
        return g.setOutputs(headName).build();
    }

    /** The shape of a model this class built (read back from its layers' configurations). */
    public static GptConfig shapeOf(ComputationGraph model) {
        var vertices = model.getConfiguration().getVertices();
        if (!(vertices.get(TOKEN_EMBEDDING) instanceof LayerVertex wte)
                || !(wte.getLayerConf().getLayer() instanceof EmbeddingSequenceLayer
                || wte.getLayerConf().getLayer() instanceof TokenEmbedding)
                || !(vertices.get(block(0)) instanceof LayerVertex b0)
                || !(b0.getLayerConf().getLayer() instanceof TransformerBlock block)) {
            throw new IllegalArgumentException("not a Kiln GPT: expected layers " + TOKEN_EMBEDDING + " (EmbeddingSequenceLayer "
                    + "or TokenEmbedding) and " + block(0) + " (TransformerBlock), found " + vertices.keySet());
        }
        int vocab = wte.getLayerConf().getLayer() instanceof TokenEmbedding t ? t.getVocabSize()
                : (int) ((EmbeddingSequenceLayer) wte.getLayerConf().getLayer()).getNIn();
        Layer head = vertices.get(HEAD) instanceof LayerVertex h ? h.getLayerConf().getLayer() : null;
        boolean tied = head instanceof TiedLmHead || (head == null && wte.getLayerConf().getLayer() instanceof TokenEmbedding);
        // Without an LM head (a classifier) an untied trunk records no head bias; GPT-2 has none.
        boolean bias = !tied && head instanceof FusedLmHead lm && lm.hasBias();
        return new GptConfig(vocab, block.getContextLength(), block.getDModel(), block.getTotalLayers(),
                block.getHeads(), block.getMlpRatio(), tied, bias);
    }

    /**
     * The LM head's weights as {@code [C, V]} (the embedding's matrix transposed, when tied) and its bias {@code [1, V]},
     * or null (tied, or untied without a bias).
     */
    public static INDArray[] headWeights(ComputationGraph model) {
        if (isTied(model)) {
            return new INDArray[]{model.getLayer(TOKEN_EMBEDDING).getParam("W").transpose(), null};
        }
        var head = model.getLayer(HEAD);
        return new INDArray[]{head.getParam("W"), head.paramTable().containsKey("b") ? head.getParam("b") : null};
    }

    /** Inputs {@code [B, 1, T]} from rows of T+1 ids: positions 0..T-1 of each row. */
    public static INDArray inputs(int[][] rows, DataType dataType) {
        return window(rows, 0, dataType);
    }

    /** Labels {@code [B, 1, T]}: positions 1..T of each row (the next token at every position). */
    public static INDArray labels(int[][] rows, DataType dataType) {
        return window(rows, 1, dataType);
    }

    public static DataSet dataSet(int[][] rows, DataType dataType) {
        return new DataSet(inputs(rows, dataType), labels(rows, dataType));
    }

    private static INDArray window(int[][] rows, int offset, DataType dataType) {
        int b = rows.length;
        int t = rows[0].length - 1;
        double[] flat = new double[b * t];
        for (int i = 0; i < b; i++) {
            if (rows[i].length != t + 1) {
                throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " ids, expected " + (t + 1));
            }
            for (int j = 0; j < t; j++) {
                flat[i * t + j] = rows[i][j + offset];
            }
        }
        return Nd4j.create(flat, new long[]{b, 1, t}, dataType);
    }

    /** Next-token probabilities {@code [B, V, T]} (inference mode). */
    public static INDArray probabilities(ComputationGraph model, int[][] rows) {
        return model.output(false, inputs(rows, model.getConfiguration().getDataType()))[0];
    }

    /**
     * Logits of the next token after position {@code positions[i]} of row i, {@code [B][V]} in double: the final
     * LayerNorm's output at that one position times the head's weights, so the head's {@code [B*T, V]} product for
     * all T positions is never computed (decoding reads one position per row).
     */
    public static double[][] nextTokenLogits(ComputationGraph model, int[][] rows, int[] positions) {
        INDArray hidden = model.feedForward(inputs(rows, model.getConfiguration().getDataType()), false).get(FINAL_NORM); // [B, C, T]
        INDArray[] head = headWeights(model);
        INDArray w = head[0];                                                               // [C, V]
        INDArray bias = head[1];                                                            // [V] or null (no bias)
        long c = hidden.size(1);
        INDArray picked = Nd4j.create(hidden.dataType(), rows.length, c);                   // [B, C]
        for (int i = 0; i < rows.length; i++) {
            picked.putRow(i, hidden.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.point(positions[i])));
        }
        INDArray logits = picked.mmul(w);                                                   // [B, V]
        if (bias != null) {
            logits.addiRowVector(bias);
        }
        double[][] out = new double[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            out[i] = logits.getRow(i).toDoubleVector();
        }
        return out;
    }

    /** Mean cross-entropy in nats per predicted token over the rows, without any regularisation term. */
    public static double meanLoss(ComputationGraph model, int[][] rows) {
        INDArray p = probabilities(model, rows);
        int t = rows[0].length - 1;
        double sum = 0;
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < t; j++) {
                sum -= Math.log(Math.max(p.getDouble(i, rows[i][j + 1], j), Double.MIN_VALUE));
            }
        }
        return sum / ((double) rows.length * t);
    }
}
