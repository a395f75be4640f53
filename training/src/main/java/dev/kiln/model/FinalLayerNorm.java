package dev.kiln.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/** The LayerNorm after the last block (GPT-2's {@code ln_f}), over the channels of {@code [B, C, T]}. */
public class FinalLayerNorm extends HandWrittenLayer {
    static final String GAIN = "gain";
    static final String BIAS = "bias";

    public FinalLayerNorm() {
    }

    public FinalLayerNorm(int dModel, int contextLength) {
        super(dModel, contextLength);
    }

    @Override
    Map<String, long[]> paramShapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(GAIN, new long[]{1, dModel});
        s.put(BIAS, new long[]{1, dModel});
        return s;
    }

    @Override
    void initialize(Map<String, INDArray> params) {
        params.get(GAIN).assign(1.0);
        params.get(BIAS).assign(0.0);
    }

    @Override
    BaseLayer<?> runtime(NeuralNetConfiguration conf, DataType dataType) {
        return new Impl(conf, dataType);
    }

    static final class Impl extends HandWrittenLayerImpl<FinalLayerNorm> {
        private transient LayerNorms.Norm cache;

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            LayerNorms.Norm norm;
            // Training: the normalised rows live on in the input workspace, for the backward pass.
            try (MemoryWorkspace ignored = training ? mgr.notifyScopeBorrowed(ArrayType.INPUT) : null) {
                norm = LayerNorms.forward(rows(input), p(GAIN), p(BIAS));                  // [N, C]
            }
            cache = training ? norm : null;
            return ncw(norm.out(), input.size(0), input.size(2), mgr, ArrayType.ACTIVATIONS);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            if (cache == null) {
                throw new IllegalStateException("backpropGradient without a training forward pass " + layerId());
            }
            INDArray dx = LayerNorms.backward(rows(epsilon), cache, p(GAIN), grad(GAIN), grad(BIAS));
            cache = null;
            return new Pair<>(gradients(), ncw(dx, input.size(0), input.size(2), mgr, ArrayType.ACTIVATION_GRAD));
        }

        @Override
        public void clear() {
            super.clear();
            cache = null;
        }
    }
}
