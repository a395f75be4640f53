package dev.kiln.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Runtime side of a {@link HandWrittenLayer}: parameter and gradient views by name, layout conversions. */
abstract class HandWrittenLayerImpl<C extends HandWrittenLayer> extends BaseLayer<C> {
    HandWrittenLayerImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.RECURRENT;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public boolean hasBias() {
        return true;
    }

    INDArray p(String key) {
        return params.get(key);
    }

    INDArray grad(String key) {
        return gradientViews.get(key);
    }

    /** The gradient of every parameter, in parameter order, from the views the backward pass wrote. */
    Gradient gradients() {
        Gradient gradient = new DefaultGradient();
        for (String key : layerConf().paramShapes().keySet()) {
            gradient.gradientForVariable().put(key, grad(key));
        }
        return gradient;
    }

    /** {@code [B, C, T]} as a c-order copy {@code [B*T, C]} (row {@code b*T + t}). */
    static INDArray rows(INDArray x) {
        long b = x.size(0), c = x.size(1), t = x.size(2);
        return x.permute(0, 2, 1).dup('c').reshape(b * t, c);
    }

    /** Rows {@code [B*T, C]} back to {@code [B, C, T]}, in the workspace of {@code type}. */
    static INDArray ncw(INDArray rows, long b, long t, LayerWorkspaceMgr mgr, ArrayType type) {
        long c = rows.size(1);
        INDArray out = mgr.createUninitialized(type, rows.dataType(), new long[]{b, c, t}, 'c');
        out.assign(rows.reshape(b, t, c).permute(0, 2, 1));
        return out;
    }

    /**
     * {@code into[1, X] = sum over rows of a[N, X]}, as the matrix product {@code ones[1, N] x a[N, X]}: ND4J's
     * column reduction {@code a.sum(0)} walks the rows with a stride and took ~7% of a model-M step (perf, December
     * 2026); the product reads {@code a} once, in order, at BLAS speed.
     */
    static void sumRows(INDArray a, INDArray into) {
        INDArray ones = Nd4j.ones(a.dataType(), 1, a.size(0));
        into.assign(Nd4j.gemm(ones, a, false, false).reshape(into.shape()));
    }

    /** Rows per product in {@link #rowStableProduct}. */
    static final int STABLE_ROWS = 4;

    /**
     * {@code x [N, K] x w [K, M]} in products of at most {@link #STABLE_ROWS} rows, so that each row gets the same
     * bits whatever N is and wherever the row sits. Measured (ND4J 1.0.0-M2.1's OpenBLAS, December 2026, K 128 and 512,
     * widths 128 to 2048): a product of up to 7 rows gives every row exactly the bits of a single-row product; from 8
     * rows on (16 at width 384) rows differ in their last bits, depending on N and on where they sit. Generation relies
     * on it: a sequence's text must not depend on the other sequences of its batch (a test checks it bit for bit).
     */
    static INDArray rowStableProduct(INDArray x, INDArray w) {
        long n = x.size(0);
        if (n <= STABLE_ROWS) {
            return x.mmul(w);
        }
        INDArray out = Nd4j.createUninitialized(x.dataType(), n, w.size(1));
        for (long r = 0; r < n; r += STABLE_ROWS) {
            INDArrayIndex rows = NDArrayIndex.interval(r, Math.min(n, r + STABLE_ROWS));
            out.get(rows, NDArrayIndex.all()).assign(x.get(rows, NDArrayIndex.all()).dup('c').mmul(w));
        }
        return out;
    }
}
