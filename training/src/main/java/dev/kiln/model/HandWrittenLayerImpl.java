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
}
