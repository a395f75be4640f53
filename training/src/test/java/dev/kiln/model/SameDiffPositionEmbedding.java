package dev.kiln.model;

import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/** The SameDiff reference of {@link PositionEmbedding}. Learned absolute position embedding: {@code x[B, C, T] + P[C, T]} (GPT-2's {@code wpe}). */
public class SameDiffPositionEmbedding extends CompensatedSameDiffLayer {
    static final String POSITIONS = "wpe";


    public SameDiffPositionEmbedding() {
    }

    public SameDiffPositionEmbedding(int dModel, int contextLength) {
        super(dModel, contextLength);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable x, Map<String, SDVariable> params, SDVariable mask) {
        return x.add(params.get(POSITIONS)); // [B, C, T] + [C, T], broadcast over B
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addWeightParam(POSITIONS, dModel, contextLength);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        INDArray p = params.get(POSITIONS);
        p.assign(Nd4j.randn(p.dataType(), p.shape()).muli(GptModel.INIT_STD));
    }
}
