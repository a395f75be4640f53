package dev.kiln.model;

import java.util.Arrays;


/**
 * The keys and values of every block for B sequences being generated (a KV cache), and the causal attention that
 * reads them. A sequence's window occupies slots 0..n-1 of its row (slot = position in the window, so learned
 * positions stay those of the full forward); new positions are written at their slots and attend to slots 0..slot.
 *
 * <p>Layout per block and row, in floats: keys transposed, {@code [H, hs, T]} (index {@code (h*hs + i)*T + slot}),
 * values {@code [H, T, hs]} (index {@code (h*T + slot)*hs + i}), so both inner loops below run over contiguous floats
 * (q·K as T-long axpys, att·V as hs-long axpys) and the JIT vectorises them. Memory: 2 x layers x B x T x C floats.
 *
 * <p>The attention is plain Java, one row at a time: a row's result depends on its own slots only, never on the other
 * rows of the batch or on how long they are, so generated text does not depend on batching or partitioning.
 */
public final class KvCache {
    private final int rows;
    private final int heads;
    private final int context;
    private final int headSize;
    private final float[][][] keys;   // [L][B][H * hs * T]
    private final float[][][] values; // [L][B][H * T * hs]

    KvCache(int layers, int rows, int heads, int context, int headSize) {
        this.rows = rows;
        this.heads = heads;
        this.context = context;
        this.headSize = headSize;
        keys = new float[layers][rows][heads * headSize * context];
        values = new float[layers][rows][heads * context * headSize];
    }

    public int rows() {
        return rows;
    }

    public int contextLength() {
        return context;
    }

    /**
     * Block {@code layer}'s attention for new positions: {@code qkv [N, 3C]} (q | k | v, head-major within each, as
     * the block's QKV product lays them out), row r being slot {@code slot[r]} of cache row {@code row[r]}. Writes every
     * row's key and value first, then each row attends to its cache row's slots 0..slot[r]. Returns y {@code [N, C]}.
     */
    float[] attend(int layer, float[] in, int[] row, int[] slot) {
        int n = row.length, c = heads * headSize;
        for (int r = 0; r < n; r++) {
            store(layer, in, r * 3 * c, row[r], slot[r]);
        }
        float[] y = new float[n * c];
        float[] scores = new float[context];
        float scale = (float) (1.0 / Math.sqrt(headSize));
        for (int r = 0; r < n; r++) {
            for (int h = 0; h < heads; h++) {
                attendHead(keys[layer][row[r]], values[layer][row[r]], h, slot[r], in, r * 3 * c + h * headSize,
                        scale, scores, y, r * c + h * headSize);
            }
        }
        return y;
    }

    /** Writes the key and value of one new position (at {@code offset} in {@code qkv}) to slot {@code slot}. */
    private void store(int layer, float[] qkv, int offset, int row, int slot) {
        if (slot < 0 || slot >= context) {
            throw new IllegalArgumentException("slot " + slot + " is outside the context of " + context);
        }
        int c = heads * headSize;
        float[] k = keys[layer][row], v = values[layer][row];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headSize; i++) {
                k[(h * headSize + i) * context + slot] = qkv[offset + c + h * headSize + i];
            }
            System.arraycopy(qkv, offset + 2 * c + h * headSize, v, (h * context + slot) * headSize, headSize);
        }
    }

    /** softmax(q K[0..slot]^T * scale) V[0..slot] for one head of one position, into {@code y[yOffset..+hs]}. */
    private void attendHead(float[] k, float[] v, int h, int slot, float[] qkv, int qOffset, float scale,
                            float[] scores, float[] y, int yOffset) {
        int len = slot + 1;
        Arrays.fill(scores, 0, len, 0f);
        for (int i = 0; i < headSize; i++) {
            float qi = qkv[qOffset + i] * scale;
            int base = (h * headSize + i) * context;
            for (int j = 0; j < len; j++) {
                scores[j] += qi * k[base + j];
            }
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            max = Math.max(max, scores[j]);
        }
        float sum = 0;
        for (int j = 0; j < len; j++) {
            scores[j] = (float) Math.exp(scores[j] - max);
            sum += scores[j];
        }
        float inv = 1f / sum;
        for (int j = 0; j < len; j++) {
            float p = scores[j] * inv;
            int base = (h * context + j) * headSize;
            for (int i = 0; i < headSize; i++) {
                y[yOffset + i] += p * v[base + i];
            }
        }
    }
}
