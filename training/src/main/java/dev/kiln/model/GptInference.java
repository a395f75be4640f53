package dev.kiln.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The inference path of a Kiln GPT ({@link GptModel}, hand-written layers) with a {@link KvCache}: only new positions
 * run through the model, as rows {@code [N, C]}; their keys and values join the cache, and attention reads the cached
 * ones. A prompt of n tokens is one pass of n rows (prefill); each new token is then one row (decode). The arithmetic
 * is {@link RowMath} on float copies of the weights taken when this is built (a snapshot: later training of the graph
 * is not seen). The weights are only read: threads may share an instance, each with its own {@link KvCache}.
 */
public final class GptInference {
    private final GptConfig shape;
    private final float[] tokenEmbedding;    // wte [V, C]
    private final float[] positions;         // wpe as [T, C]
    private final TransformerBlockLayer.Weights[] blocks;
    private final float[] finalGain;         // [C]
    private final float[] finalBias;         // [C]
    private final float[] headWeight;        // [C, V] (tied: wte transposed)
    private final float[] headBias;          // [V] (zeros without a head bias: tied, or untied like GPT-2's lm_head)

    public GptInference(ComputationGraph graph) {
        if (!supports(graph)) {
            throw new IllegalArgumentException("the KV-cached path needs Kiln's hand-written layers (" + GptModel.POSITION_EMBEDDING
                    + ", " + GptModel.block(0) + ", " + GptModel.FINAL_NORM + "); this graph has "
                    + graph.getLayer(GptModel.block(0)).getClass().getSimpleName());
        }
        shape = GptModel.shapeOf(graph);
        tokenEmbedding = RowMath.floats(graph.getLayer(GptModel.TOKEN_EMBEDDING).getParam("W"));
        positions = RowMath.floats(((PositionEmbedding.Impl) graph.getLayer(GptModel.POSITION_EMBEDDING))
                .p(PositionEmbedding.POSITIONS).transpose());
        blocks = new TransformerBlockLayer.Weights[shape.layers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = ((TransformerBlockLayer) graph.getLayer(GptModel.block(i))).weights();
        }
        FinalLayerNorm.Impl lnf = (FinalLayerNorm.Impl) graph.getLayer(GptModel.FINAL_NORM);
        finalGain = RowMath.floats(lnf.p(FinalLayerNorm.GAIN));
        finalBias = RowMath.floats(lnf.p(FinalLayerNorm.BIAS));
        INDArray[] head = GptModel.headWeights(graph);                                     // tied: wte^T; bias or null
        headWeight = RowMath.floats(head[0]);
        headBias = head[1] == null ? new float[shape.vocabSize()] : RowMath.floats(head[1]);
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
        int c = shape.dModel();
        int[] row = new int[n], slot = new int[n], last = new int[rows.length];
        float[] x = new float[n * c];                                                     // [N, C]: wte + wpe
        for (int i = 0, r = 0; i < rows.length; i++) {
            if (tokens[i].length == 0 || from[i] + tokens[i].length > shape.contextLength()) {
                throw new IllegalArgumentException("row " + rows[i] + ": " + tokens[i].length + " new positions from slot "
                        + from[i] + " do not fit 1.." + shape.contextLength());
            }
            for (int j = 0; j < tokens[i].length; j++, r++) {
                row[r] = rows[i];
                slot[r] = from[i] + j;
                for (int k = 0; k < c; k++) {
                    x[r * c + k] = tokenEmbedding[tokens[i][j] * c + k] + positions[slot[r] * c + k];
                }
            }
            last[i] = r - 1;
        }
        for (int l = 0; l < blocks.length; l++) {
            x = TransformerBlockLayer.forwardCached(blocks[l], x, n, cache, l, row, slot);     // [N, C]
        }
        float[] h = new float[rows.length * c];                                           // [B, C]: each row's last
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(x, last[i] * c, h, i * c, c);
        }
        int v = shape.vocabSize();
        float[] logits = RowMath.affine(RowMath.layerNorm(h, rows.length, c, finalGain, finalBias), rows.length, c,
                headWeight, v, headBias);                                                    // [B, V]
        double[][] out = new double[rows.length][v];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < v; j++) {
                out[i][j] = logits[i * v + j];
            }
        }
        return out;
    }
}
