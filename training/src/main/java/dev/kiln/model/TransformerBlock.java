package dev.kiln.model;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.BaseLayer;
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
 * The forward's intermediates are kept for the backward pass (SameDiff would replay the forward), and no
 * compensation for DL4J's doubled SameDiff gradients is needed. The tests check this block against a SameDiff
 * implementation of the same math, which takes its parameter names, mask and initialisation from here.
 * Input and output are DL4J's recurrent layout {@code [B, C, T]}.
 */
public class TransformerBlock extends HandWrittenLayer {
    // Parameter names. No underscores: DL4J's updater splits parameter keys at '_'.
    static final String LN1_GAIN = "ln1Gain";
    static final String LN1_BIAS = "ln1Bias";
    static final String QKV_WEIGHT = "attnW";
    static final String QKV_BIAS = "attnB";
    static final String PROJ_WEIGHT = "projW";
    static final String PROJ_BIAS = "projB";
    static final String LN2_GAIN = "ln2Gain";
    static final String LN2_BIAS = "ln2Bias";
    static final String FC_WEIGHT = "fcW";
    static final String FC_BIAS = "fcB";
    static final String OUT_WEIGHT = "outW";
    static final String OUT_BIAS = "outB";

    /** Additive mask value above the diagonal: exp(-1e9) is exactly 0 in float and double. */
    static final double MASKED = -1e9;

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
        s.put(LN1_GAIN, new long[]{1, c});
        s.put(LN1_BIAS, new long[]{1, c});
        s.put(QKV_WEIGHT, new long[]{c, 3 * c});
        s.put(QKV_BIAS, new long[]{1, 3 * c});
        s.put(PROJ_WEIGHT, new long[]{c, c});
        s.put(PROJ_BIAS, new long[]{1, c});
        s.put(LN2_GAIN, new long[]{1, c});
        s.put(LN2_BIAS, new long[]{1, c});
        s.put(FC_WEIGHT, new long[]{c, r});
        s.put(FC_BIAS, new long[]{1, r});
        s.put(OUT_WEIGHT, new long[]{r, c});
        s.put(OUT_BIAS, new long[]{1, c});
        return s;
    }

    @Override
    void initialize(Map<String, INDArray> params) {
        initialize(params, totalLayers);
    }

    /**
     * GPT-2's initialisation (the tests' SameDiff reference uses it too): N(0, 0.02) weights, zero biases, unit gains; the two
     * projections that write into the residual stream are scaled by 1/sqrt(2 * layers) so the residual's variance
     * does not grow with depth.
     */
    static void initialize(Map<String, INDArray> params, int totalLayers) {
        double residualStd = GptModel.INIT_STD / Math.sqrt(2.0 * totalLayers);
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray a = e.getValue();
            switch (e.getKey()) {
                case LN1_GAIN, LN2_GAIN -> a.assign(1.0);
                case QKV_WEIGHT, FC_WEIGHT ->
                        a.assign(Nd4j.randn(a.dataType(), a.shape()).muli(GptModel.INIT_STD));
                case PROJ_WEIGHT, OUT_WEIGHT ->
                        a.assign(Nd4j.randn(a.dataType(), a.shape()).muli(residualStd));
                default -> a.assign(0.0);
            }
        }
    }

    /**
     * The causal attention mask {@code [T, T]}: 0 on and below the diagonal, {@link #MASKED} above, added to the
     * scores so that position t attends to positions 0..t only.
     */
    static INDArray causalMask(int t, DataType dataType) {
        double[] mask = new double[t * t];
        for (int query = 0; query < t; query++) {
            for (int key = query + 1; key < t; key++) {
                mask[query * t + key] = MASKED;
            }
        }
        return Nd4j.create(mask, new long[]{t, t}, dataType);
    }

    @Override
    BaseLayer<?> runtime(NeuralNetConfiguration conf, DataType dataType) {
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
