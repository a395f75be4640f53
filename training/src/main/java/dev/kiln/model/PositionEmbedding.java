package dev.kiln.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/** Learned absolute position embedding: {@code x[B, C, T] + P[C, T]} (GPT-2's {@code wpe}), broadcast over B. */
public class PositionEmbedding extends HandWrittenLayer {
    static final String POSITIONS = "wpe";

    public PositionEmbedding() {
    }

    public PositionEmbedding(int dModel, int contextLength) {
        super(dModel, contextLength);
    }

    @Override
    Map<String, long[]> paramShapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(POSITIONS, new long[]{dModel, contextLength});
        return s;
    }

    @Override
    void initialize(Map<String, INDArray> params) {
        INDArray p = params.get(POSITIONS);
        p.assign(Nd4j.randn(p.dataType(), p.shape()).muli(GptModel.INIT_STD));
    }

    @Override
    boolean decays(String key) {
        return true; // an embedding, decayed like the token embedding
    }

    @Override
    BaseLayer<?> runtime(NeuralNetConfiguration conf, DataType dataType) {
        return new Impl(conf, dataType);
    }

    static final class Impl extends HandWrittenLayerImpl<PositionEmbedding> {
        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            INDArray out = mgr.dup(ArrayType.ACTIVATIONS, input, 'c');                      // [B, C, T]
            Nd4j.exec(new BroadcastAddOp(out, p(POSITIONS), out, 1, 2));
            return out;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            grad(POSITIONS).assign(epsilon.sum(0));                                         // [C, T]
            return new Pair<>(gradients(), mgr.dup(ArrayType.ACTIVATION_GRAD, epsilon, 'c'));
        }
    }
}
