package dev.kiln.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterUpdate;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The token embedding of a model whose LM head is tied to it ({@link TiedLmHead}, GPT-2's {@code wte}): ids
 * {@code [B, 1, T]} to {@code [B, C, T]}, one parameter {@code W [V, C]}, GPT-2's initialisation N(0, 0.02).
 *
 * <p>It replaces DL4J's {@code EmbeddingSequenceLayer} in tied models because a DL4J graph cannot share a parameter
 * between two layers: the head instead reads this layer's {@code W} and writes its share of the gradient into this
 * layer's gradient view ({@link GptModel#tie}). <b>Ordering contract:</b> a graph back-propagates from the head down,
 * so the head runs first and ASSIGNS its {@code dW} (overwriting last step's values); this layer runs last and ADDS the
 * scatter of its input gradient. Untied (no head wrote first, as in a classifier), this layer assigns.
 */
public class TokenEmbedding extends HandWrittenLayer {
    static final String WEIGHTS = "W";
    /** The embedding's gradient axis along which ids select rows (rows of W [V, C]). */
    private static final int[] ROWS = {1};

    private int vocabSize;

    public TokenEmbedding() {
    }

    public TokenEmbedding(int vocabSize, int dModel, int contextLength) {
        super(dModel, contextLength);
        this.vocabSize = vocabSize;
    }

    public int getVocabSize() {
        return vocabSize;
    }

    public void setVocabSize(int vocabSize) {
        this.vocabSize = vocabSize;
    }

    @Override
    Map<String, long[]> paramShapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(WEIGHTS, new long[]{vocabSize, dModel});
        return s;
    }

    @Override
    void initialize(Map<String, INDArray> params) {
        INDArray w = params.get(WEIGHTS);
        w.assign(Nd4j.randn(w.dataType(), w.shape()).muli(GptModel.INIT_STD));
    }

    @Override
    boolean decays(String key) {
        return true; // a matrix (and the head's weights when tied), decayed as nanoGPT and GPT-2 recipes do
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.recurrent(dModel, contextLength, RNNFormat.NCW);
    }

    @Override
    BaseLayer<?> runtime(NeuralNetConfiguration conf, DataType dataType) {
        return new Impl(conf, dataType);
    }

    /** Runtime; also the tied head's handle on {@code W} and its gradient. */
    public static final class Impl extends HandWrittenLayerImpl<TokenEmbedding> {
        // Set by GptModel.tie: a head assigns its share of dW before this layer's backward pass adds its own.
        private transient boolean headWritesFirst;

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        /** {@code W [V, C]}, the live parameter view. */
        INDArray weights() {
            return p(WEIGHTS);
        }

        /** {@code dW [V, C]}, the live gradient view (null before the graph allocated its gradients). */
        INDArray weightGradient() {
            return grad(WEIGHTS);
        }

        void headWritesFirst(boolean tied) {
            this.headWritesFirst = tied;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            long b = input.size(0), t = input.size(input.rank() - 1);
            int[] ids = ids(input);
            INDArray rows = mgr.createUninitialized(ArrayType.FF_WORKING_MEM, weights().dataType(), (long) ids.length, dModel());
            Nd4j.pullRows(weights(), rows, 1, ids);                                        // [N, C], row b*T + t
            return ncw(rows, b, t, mgr, ArrayType.ACTIVATIONS);                            // [B, C, T]
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            assertInputSet(true);
            INDArray dw = weightGradient();
            if (!headWritesFirst) {
                dw.assign(0);
            }
            INDArray delta = rows(epsilon);                                                // [N, C]
            Nd4j.scatterUpdate(ScatterUpdate.UpdateOp.ADD, dw, Nd4j.createFromArray(ids(input)), delta, ROWS);
            return new Pair<>(gradients(), null);                                          // ids have no gradient
        }

        private long dModel() {
            return layerConf().getDModel();
        }

        /** Ids {@code [B, 1, T]} (or {@code [B, T]}) as row {@code b*T + t}, checked against the vocabulary. */
        private int[] ids(INDArray x) {
            int[] ids = x.dup('c').reshape(x.length()).toIntVector();
            int v = layerConf().getVocabSize();
            for (int r = 0; r < ids.length; r++) {
                if (ids[r] < 0 || ids[r] >= v) {
                    throw new IllegalArgumentException("token id " + ids[r] + " at position " + r
                            + " is outside the vocabulary [0, " + v + ") " + layerId());
                }
            }
            return ids;
        }
    }
}
