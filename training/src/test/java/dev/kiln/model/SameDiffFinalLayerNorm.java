package dev.kiln.model;

import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** The SameDiff reference of {@link FinalLayerNorm}: the LayerNorm after the last block (GPT-2's {@code ln_f}), over the channel axis of {@code [B, C, T]}. */
public class SameDiffFinalLayerNorm extends CompensatedSameDiffLayer {
    static final String GAIN = "gain";
    static final String BIAS = "bias";


    public SameDiffFinalLayerNorm() {
    }

    public SameDiffFinalLayerNorm(int dModel, int contextLength) {
        super(dModel, contextLength);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable x, Map<String, SDVariable> params, SDVariable mask) {
        SDVariable btc = sd.reshape(sd.permute(x, 0, 2, 1), -1, dModel);                  // [B*T, C]
        SDVariable normed = SameDiffTransformerBlock.layerNorm(sd, btc, params.get(GAIN), params.get(BIAS));
        return sd.permute(sd.reshape(normed, -1, contextLength, dModel), 0, 2, 1);        // [B, C, T]
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.addBiasParam(GAIN, dModel);
        params.addBiasParam(BIAS, dModel);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        params.get(GAIN).assign(1.0);
        params.get(BIAS).assign(0.0);
    }
}
