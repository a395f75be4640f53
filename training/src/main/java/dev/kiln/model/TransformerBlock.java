package dev.kiln.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One pre-LayerNorm GPT block (GPT-2 / nanoGPT {@code Block}) with a hand-written forward and backward over ND4J
 * matrix products ({@link TransformerBlockLayer}):
 * <pre>
 *   x = x + proj(causal_attention(ln_1(x)))
 *   x = x + W_out · gelu(W_fc · ln_2(x))        gelu: GPT-2's tanh approximation; LayerNorm eps 1e-5
 * </pre>
 * Parameters, their names and their initialisation are those of {@link CausalSelfAttentionBlock}, the SameDiff
 * implementation the tests compare it with; this one keeps the forward's intermediates for the backward pass instead
 * of replaying the forward, and needs no compensation for DL4J's doubled SameDiff gradients.
 * Input and output are DL4J's recurrent layout {@code [B, C, T]}.
 */
public class TransformerBlock extends HandWrittenLayer {
    private int heads;
    private int mlpRatio;
    private int totalLayers;

    /** For JSON (DL4J rebuilds layer configurations on executors and from checkpoints). */
    public TransformerBlock() {
    }

    public TransformerBlock(GptConfig config) {
        super(config.dModel(), config.contextLength());
        this.heads = config.heads();
        this.mlpRatio = config.mlpRatio();
        this.totalLayers = config.layers();
    }

    /** Matrices are {@code [in, out]}; biases and gains {@code [1, width]}. */
    @Override
    Map<String, long[]> paramShapes() {
        long c = dModel;
        long r = (long) mlpRatio * c;
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put(CausalSelfAttentionBlock.LN1_GAIN, new long[]{1, c});
        s.put(CausalSelfAttentionBlock.LN1_BIAS, new long[]{1, c});
        s.put(CausalSelfAttentionBlock.QKV_WEIGHT, new long[]{c, 3 * c});
        s.put(CausalSelfAttentionBlock.QKV_BIAS, new long[]{1, 3 * c});
        s.put(CausalSelfAttentionBlock.PROJ_WEIGHT, new long[]{c, c});
        s.put(CausalSelfAttentionBlock.PROJ_BIAS, new long[]{1, c});
        s.put(CausalSelfAttentionBlock.LN2_GAIN, new long[]{1, c});
        s.put(CausalSelfAttentionBlock.LN2_BIAS, new long[]{1, c});
        s.put(CausalSelfAttentionBlock.FC_WEIGHT, new long[]{c, r});
        s.put(CausalSelfAttentionBlock.FC_BIAS, new long[]{1, r});
        s.put(CausalSelfAttentionBlock.OUT_WEIGHT, new long[]{r, c});
        s.put(CausalSelfAttentionBlock.OUT_BIAS, new long[]{1, c});
        return s;
    }

    @Override
    void initialize(Map<String, INDArray> params) {
        initialize(params, totalLayers);
    }

    /**
     * GPT-2's initialisation, shared with the SameDiff reference: N(0, 0.02) weights, zero biases, unit gains; the two
     * projections that write into the residual stream are scaled by 1/sqrt(2 * layers) so the residual's variance
     * does not grow with depth.
     */
    static void initialize(Map<String, INDArray> params, int totalLayers) {
        double residualStd = GptModel.INIT_STD / Math.sqrt(2.0 * totalLayers);
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray a = e.getValue();
            switch (e.getKey()) {
                case CausalSelfAttentionBlock.LN1_GAIN, CausalSelfAttentionBlock.LN2_GAIN -> a.assign(1.0);
                case CausalSelfAttentionBlock.QKV_WEIGHT, CausalSelfAttentionBlock.FC_WEIGHT ->
                        a.assign(Nd4j.randn(a.dataType(), a.shape()).muli(GptModel.INIT_STD));
                case CausalSelfAttentionBlock.PROJ_WEIGHT, CausalSelfAttentionBlock.OUT_WEIGHT ->
                        a.assign(Nd4j.randn(a.dataType(), a.shape()).muli(residualStd));
                default -> a.assign(0.0);
            }
        }
    }

    @Override
    org.deeplearning4j.nn.layers.BaseLayer<?> runtime(NeuralNetConfiguration conf, DataType dataType) {
        return new TransformerBlockLayer(conf, dataType);
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
