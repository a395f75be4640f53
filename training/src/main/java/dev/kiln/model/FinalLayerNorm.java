package dev.kiln.model;

import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** The LayerNorm after the last block (GPT-2's {@code ln_f}), over the channel axis of {@code [B, C, T]}. */
public class FinalLayerNorm extends CompensatedSameDiffLayer {
    static final String GAIN = "gain";
    static final String BIAS = "bias";


    public FinalLayerNorm() {
    }

    public FinalLayerNorm(int dModel, int contextLength) {
        super(dModel, contextLength);
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable x, Map<String, SDVariable> params, SDVariable mask) {
        SDVariable btc = sd.reshape(sd.permute(x, 0, 2, 1), -1, dModel);                  // [B*T, C]
        SDVariable normed = sd.nn.layerNorm(btc, params.get(GAIN), params.get(BIAS), false, 1);
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
