package dev.kiln.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The generation path's arithmetic on rows held as plain float arrays ({@code [N, width]}, row-major). At generation's
 * sizes (a handful of rows per step) ND4J's cost per op (~10-30 us: allocation, JNI, shape checks) is larger than the
 * arithmetic, and a decode step is ~60 ops; these loops have no per-op cost, and the JIT vectorises their inner loops
 * (each runs over contiguous floats, as an axpy, not a reduction). Every row is computed alone, in a fixed order, so a
 * row's bits never depend on the other rows of the batch (a BLAS product does: measured, ND4J's OpenBLAS gives a row
 * other last bits in a product of 8 or more rows than alone).
 */
final class RowMath {
    private RowMath() {
    }

    /** A parameter as a row-major float copy. */
    static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').reshape(a.length()).toFloatVector();
    }

    /** Output columns per pass of {@link #affine}: 8 rows x 1,024 floats of output (32 KB) stay in the L1 cache. */
    private static final int COLUMNS = 1024;

    /**
     * {@code x [n, k] · w [k, m] + bias [m]} (w row-major), {@link #COLUMNS} output columns at a time; every output's
     * sum over k runs in order, whatever n and the blocking.
     */
    static float[] affine(float[] x, int n, int k, float[] w, int m, float[] bias) {
        float[] out = new float[n * m];
        for (int r = 0; r < n; r++) {
            System.arraycopy(bias, 0, out, r * m, m);
        }
        for (int j0 = 0; j0 < m; j0 += COLUMNS) {
            int j1 = Math.min(m, j0 + COLUMNS);
            int i = 0;
            // Four k at a time: one load and store of the output per four products. Java adds left to right, so
            // out + a0 w0 + a1 w1 + ... is the same sum, in the same order, as four single steps.
            for (; i + 4 <= k; i += 4) {
                int w0 = i * m, w1 = w0 + m, w2 = w1 + m, w3 = w2 + m;
                for (int r = 0; r < n; r++) {
                    int xr = r * k + i, o = r * m;
                    float a0 = x[xr], a1 = x[xr + 1], a2 = x[xr + 2], a3 = x[xr + 3];
                    for (int j = j0; j < j1; j++) {
                        out[o + j] = out[o + j] + a0 * w[w0 + j] + a1 * w[w1 + j] + a2 * w[w2 + j] + a3 * w[w3 + j];
                    }
                }
            }
            for (; i < k; i++) {
                int w0 = i * m;
                for (int r = 0; r < n; r++) {
                    float a = x[r * k + i];
                    int o = r * m;
                    for (int j = j0; j < j1; j++) {
                        out[o + j] += a * w[w0 + j];
                    }
                }
            }
        }
        return out;
    }

    /** LayerNorm of each row of {@code x [n, c]} (eps {@link LayerNorms#EPSILON}), statistics in double. */
    static float[] layerNorm(float[] x, int n, int c, float[] gain, float[] bias) {
        float[] out = new float[n * c];
        for (int r = 0; r < n; r++) {
            int o = r * c;
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += x[o + j];
            }
            float mean = (float) (sum / c);
            double sq = 0;
            for (int j = 0; j < c; j++) {
                double d = x[o + j] - mean;
                sq += d * d;
            }
            float rstd = (float) (1.0 / Math.sqrt(sq / c + LayerNorms.EPSILON));
            for (int j = 0; j < c; j++) {
                out[o + j] = (x[o + j] - mean) * rstd * gain[j] + bias[j];
            }
        }
        return out;
    }

    /** GPT-2's tanh GELU, in place: {@code 0.5 f (1 + tanh(sqrt(2/pi) (f + 0.044715 f^3)))}. */
    static void gelu(float[] f, double k, double c) {
        for (int i = 0; i < f.length; i++) {
            double v = f[i];
            f[i] = (float) (0.5 * v * (1 + Math.tanh(k * (v + c * v * v * v))));
        }
    }

    /** {@code into += x}, element-wise. */
    static void add(float[] into, float[] x) {
        for (int i = 0; i < into.length; i++) {
            into[i] += x[i];
        }
    }
}
