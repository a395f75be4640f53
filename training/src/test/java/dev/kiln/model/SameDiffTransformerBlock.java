package dev.kiln.model;

import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static dev.kiln.model.TransformerBlock.FC_BIAS;
import static dev.kiln.model.TransformerBlock.FC_WEIGHT;
import static dev.kiln.model.TransformerBlock.LN1_BIAS;
import static dev.kiln.model.TransformerBlock.LN1_GAIN;
import static dev.kiln.model.TransformerBlock.LN2_BIAS;
import static dev.kiln.model.TransformerBlock.LN2_GAIN;
import static dev.kiln.model.TransformerBlock.OUT_BIAS;
import static dev.kiln.model.TransformerBlock.OUT_WEIGHT;
import static dev.kiln.model.TransformerBlock.PROJ_BIAS;
import static dev.kiln.model.TransformerBlock.PROJ_WEIGHT;
import static dev.kiln.model.TransformerBlock.QKV_BIAS;
import static dev.kiln.model.TransformerBlock.QKV_WEIGHT;

/**
 * Test reference: one whole pre-LayerNorm GPT block (GPT-2 / nanoGPT {@code Block}: causal attention and MLP, each
 * with its LayerNorm and residual) written as a SameDiff layer, which {@link TransformerBlock} (hand-written forward
 * and backward, the one models use) is tested against. Same math:
 * <pre>
 *   x = x + proj(causal_attention(ln_1(x)))
 *   x = x + mlp(ln_2(x))          mlp = W_out · gelu(W_fc · h)
 * </pre>
 * DL4J's {@code SelfAttentionLayer} has no causal mask; here the scores get a constant additive {@code [T, T]} mask
 * (0 on and below the diagonal, -1e9 above), so position t attends to positions 0..t only.
 * Works on DL4J's recurrent layout {@code [B, C, T]}; internally on rows {@code [B*T, C]} so every projection is
 * one matrix product.
 */
public class SameDiffTransformerBlock extends CompensatedSameDiffLayer {


    private int heads;
    private int mlpRatio;
    private int totalLayers;

    public SameDiffTransformerBlock() {
    }

    public SameDiffTransformerBlock(GptConfig config) {
        super(config.dModel(), config.contextLength());
        this.heads = config.heads();
        this.mlpRatio = config.mlpRatio();
        this.totalLayers = config.layers();
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable input, Map<String, SDVariable> p, SDVariable mask) {
        int c = dModel;
        int t = contextLength;
        int hs = c / heads;

        SDVariable x = sd.reshape(sd.permute(input, 0, 2, 1), -1, c);                  // [B*T, C]

        // --- causal multi-head self-attention on ln_1(x)
        SDVariable h = layerNorm(sd, x, p.get(LN1_GAIN), p.get(LN1_BIAS));
        SDVariable qkv = h.mmul(p.get(QKV_WEIGHT)).add(p.get(QKV_BIAS));               // [B*T, 3C]
        qkv = sd.permute(sd.reshape(qkv, -1, t, 3, heads, hs), 2, 0, 3, 1, 4);          // [3, B, H, T, hs]
        SDVariable[] parts = sd.unstack(qkv, 0, 3);                                     // q, k, v: [B, H, T, hs]
        SDVariable scores = sd.mmul(parts[0], parts[1], false, true, false)             // [B, H, T, T]
                .mul(1.0 / Math.sqrt(hs))
                .add(sd.constant(TransformerBlock.causalMask(t, input.dataType())));
        SDVariable att = sd.nn.softmax(scores, 3);
        SDVariable y = sd.mmul(att, parts[2]);                                           // [B, H, T, hs]
        y = sd.reshape(sd.permute(y, 0, 2, 1, 3), -1, c);                               // [B*T, C]
        x = x.add(y.mmul(p.get(PROJ_WEIGHT)).add(p.get(PROJ_BIAS)));

        // --- MLP on ln_2(x)
        h = layerNorm(sd, x, p.get(LN2_GAIN), p.get(LN2_BIAS));
        h = gelu(sd, h.mmul(p.get(FC_WEIGHT)).add(p.get(FC_BIAS)));                    // [B*T, rC]
        x = x.add(h.mmul(p.get(OUT_WEIGHT)).add(p.get(OUT_BIAS)));

        return sd.permute(sd.reshape(x, -1, t, c), 0, 2, 1);                            // [B, C, T]
    }

    /** LayerNorm over the channels of rows {@code [N, C]} with GPT-2's epsilon (ND4J's layerNorm op has none). */
    static SDVariable layerNorm(SameDiff sd, SDVariable x, SDVariable gain, SDVariable bias) {
        SDVariable centred = x.sub(x.mean(true, 1));
        SDVariable variance = centred.mul(centred).mean(true, 1);
        return centred.div(sd.math.sqrt(variance.add(LayerNorms.EPSILON))).mul(gain).add(bias);
    }

    /** GPT-2's tanh approximation: {@code 0.5 f (1 + tanh(sqrt(2/pi) (f + 0.044715 f^3)))} (ND4J's gelu is another). */
    private static SDVariable gelu(SameDiff sd, SDVariable f) {
        SDVariable inner = f.add(f.mul(f).mul(f).mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI));
        return f.mul(0.5).mul(sd.math.tanh(inner).add(1.0));
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        long c = dModel;
        params.addBiasParam(LN1_GAIN, c);
        params.addBiasParam(LN1_BIAS, c);
        params.addWeightParam(QKV_WEIGHT, c, 3 * c);
        params.addBiasParam(QKV_BIAS, 3 * c);
        params.addWeightParam(PROJ_WEIGHT, c, c);
        params.addBiasParam(PROJ_BIAS, c);
        params.addBiasParam(LN2_GAIN, c);
        params.addBiasParam(LN2_BIAS, c);
        params.addWeightParam(FC_WEIGHT, c, (long) mlpRatio * c);
        params.addBiasParam(FC_BIAS, (long) mlpRatio * c);
        params.addWeightParam(OUT_WEIGHT, (long) mlpRatio * c, c);
        params.addBiasParam(OUT_BIAS, c);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        TransformerBlock.initialize(params, totalLayers);
    }

    public int getHeads() {
        return heads;
    }

    public void setHeads(int heads) {
        this.heads = heads;
    }

    public int getMlpRatio() {
        return mlpRatio;
    }

    public void setMlpRatio(int mlpRatio) {
        this.mlpRatio = mlpRatio;
    }

    public int getTotalLayers() {
        return totalLayers;
    }

    public void setTotalLayers(int totalLayers) {
        this.totalLayers = totalLayers;
    }
}
