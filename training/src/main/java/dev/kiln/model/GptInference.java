package dev.kiln.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The inference path of a Kiln GPT ({@link GptModel}, hand-written layers) with a {@link KvCache}: only new positions
 * run through the model, as rows {@code [N, C]}; their keys and values join the cache, and attention reads the cached
 * ones. A prompt of n tokens is one pass of n rows (prefill); each new token is then one row (decode). Reads the
 * graph's own parameter arrays (no copy), so it always uses the graph's current weights; like the graph, an instance
 * is not safe for concurrent use.
 */
public final class GptInference {
    private final INDArray tokenEmbedding;   // wte [V, C]
    private final PositionEmbedding.Impl positions;
    private final TransformerBlockLayer[] blocks;
    private final FinalLayerNorm.Impl finalNorm;
    private final INDArray headWeight;       // [C, V]
    private final INDArray headBias;         // [1, V]
    private final GptConfig shape;

    public GptInference(ComputationGraph graph) {
        shape = GptModel.shapeOf(graph);
        if (!(graph.getLayer(GptModel.POSITION_EMBEDDING) instanceof PositionEmbedding.Impl p)
                || !(graph.getLayer(GptModel.FINAL_NORM) instanceof FinalLayerNorm.Impl n)) {
            throw new IllegalArgumentException("the KV-cached path needs Kiln's hand-written layers; this graph has "
                    + graph.getLayer(GptModel.POSITION_EMBEDDING).getClass().getSimpleName());
        }
        positions = p;
        finalNorm = n;
        blocks = new TransformerBlockLayer[shape.layers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = (TransformerBlockLayer) graph.getLayer(GptModel.block(i));
        }
        tokenEmbedding = graph.getLayer(GptModel.TOKEN_EMBEDDING).getParam("W");
        Layer head = graph.getLayer(GptModel.HEAD);
        headWeight = head.getParam("W");
        headBias = head.getParam("b").reshape(1, shape.vocabSize());
    }

    /** Whether {@code graph} is a Kiln GPT whose layers have the cached inference path. */
    public static boolean supports(ComputationGraph graph) {
        return graph.getLayer(GptModel.POSITION_EMBEDDING) instanceof PositionEmbedding.Impl
                && graph.getLayer(GptModel.block(0)) instanceof TransformerBlockLayer
                && graph.getLayer(GptModel.FINAL_NORM) instanceof FinalLayerNorm.Impl;
    }

    public GptConfig shape() {
        return shape;
    }

    /** An empty cache for {@code rows} sequences of up to T positions each. */
    public KvCache newCache(int rows) {
        return new KvCache(shape.layers(), rows, shape.heads(), shape.contextLength(), shape.headSize());
    }

    /**
     * Runs new positions: for each i, {@code tokens[i]} go to cache row {@code rows[i]} at slots
     * {@code from[i], from[i] + 1, ...} (from 0: a new window, the row's older slots are overwritten or never read).
     * Returns the next-token logits after the last of them, {@code [rows.length][V]} in double.
     */
    public double[][] forward(KvCache cache, int[] rows, int[][] tokens, int[] from) {
        int n = 0;
        for (int[] t : tokens) {
            n += t.length;
        }
        int[] ids = new int[n], row = new int[n], slot = new int[n], last = new int[rows.length];
        for (int i = 0, r = 0; i < rows.length; i++) {
            if (tokens[i].length == 0 || from[i] + tokens[i].length > shape.contextLength()) {
                throw new IllegalArgumentException("row " + rows[i] + ": " + tokens[i].length + " new positions from slot "
                        + from[i] + " do not fit 1.." + shape.contextLength());
            }
            for (int j = 0; j < tokens[i].length; j++, r++) {
                ids[r] = tokens[i][j];
                row[r] = rows[i];
                slot[r] = from[i] + j;
            }
            last[i] = r - 1;
        }
        INDArray wpeRows = positions.p(PositionEmbedding.POSITIONS).transpose().dup('c');   // [T, C]
        INDArray x = Nd4j.pullRows(tokenEmbedding, 1, ids).addi(Nd4j.pullRows(wpeRows, 1, slot)); // [N, C]
        for (int l = 0; l < blocks.length; l++) {
            x = blocks[l].forwardCached(x, cache, l, row, slot);                               // [N, C]
        }
        INDArray h = n == rows.length ? x : Nd4j.pullRows(x, 1, last);                          // [B, C]
        INDArray hn = LayerNorms.forward(h, finalNorm.p(FinalLayerNorm.GAIN), finalNorm.p(FinalLayerNorm.BIAS)).out();
        return HandWrittenLayerImpl.rowStableProduct(hn, headWeight).addiRowVector(headBias).toDoubleMatrix();                 // [B, V]
    }
}
