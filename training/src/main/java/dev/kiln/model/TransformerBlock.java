package dev.kiln.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
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
public class TransformerBlock extends BaseLayer {
    /** GPT-2's (and PyTorch's) LayerNorm epsilon, added to the variance. */
    static final double LAYER_NORM_EPSILON = 1e-5;

    private int dModel;
    private int contextLength;
    private int heads;
    private int mlpRatio;
    private int totalLayers;

    /** For JSON (DL4J rebuilds layer configurations on executors and from checkpoints). */
    public TransformerBlock() {
    }

    public TransformerBlock(GptConfig config) {
        this.dModel = config.dModel();
        this.contextLength = config.contextLength();
        this.heads = config.heads();
        this.mlpRatio = config.mlpRatio();
        this.totalLayers = config.layers();
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType networkDataType) {
        TransformerBlockLayer layer = new TransformerBlockLayer(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return Params.INSTANCE;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.recurrent(dModel, contextLength, RNNFormat.NCW);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        // Sizes are explicit: input-type inference resets sizes in DL4J 1.0.0-M2.1.
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(getLayerName(), TransformerBlock.class, inputType, getOutputType(-1, inputType))
                .standardMemory(Params.INSTANCE.numParams(this), 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }

    public int getDModel() {
        return dModel;
    }

    public void setDModel(int dModel) {
        this.dModel = dModel;
    }

    public int getContextLength() {
        return contextLength;
    }

    public void setContextLength(int contextLength) {
        this.contextLength = contextLength;
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

    /** Parameter names and shapes, in the order they sit in the flat parameter view. Matrices are {@code [in, out]}. */
    static Map<String, long[]> shapes(TransformerBlock b) {
        long c = b.dModel;
        long r = (long) b.mlpRatio * c;
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

    /** Views of the flat parameter (or gradient) array, one per name; weight decay applies to the matrices only. */
    static final class Params implements ParamInitializer {
        static final Params INSTANCE = new Params();

        private static TransformerBlock block(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return (TransformerBlock) layer;
        }

        @Override
        public long numParams(NeuralNetConfiguration conf) {
            return numParams(conf.getLayer());
        }

        @Override
        public long numParams(org.deeplearning4j.nn.conf.layers.Layer layer) {
            long n = 0;
            for (long[] shape : shapes(block(layer)).values()) {
                n += shape[0] * shape[1];
            }
            return n;
        }

        @Override
        public List<String> paramKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return new ArrayList<>(shapes(block(layer)).keySet());
        }

        @Override
        public List<String> weightKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return paramKeys(layer).stream().filter(k -> isWeightParam(layer, k)).toList();
        }

        @Override
        public List<String> biasKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return paramKeys(layer).stream().filter(k -> isBiasParam(layer, k)).toList();
        }

        @Override
        public boolean isWeightParam(org.deeplearning4j.nn.conf.layers.Layer layer, String key) {
            return key.endsWith("W");
        }

        @Override
        public boolean isBiasParam(org.deeplearning4j.nn.conf.layers.Layer layer, String key) {
            return !isWeightParam(layer, key);
        }

        @Override
        public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
            TransformerBlock b = block(conf.getLayer());
            Map<String, INDArray> views = views(b, paramsView);
            for (String key : views.keySet()) {
                conf.addVariable(key);
            }
            if (initializeParams) {
                // GPT-2: N(0, 0.02) weights, zero biases, unit gains; the two projections that write into the residual
                // stream are scaled by 1/sqrt(2 * layers) so the residual's variance does not grow with depth.
                double residualStd = GptModel.INIT_STD / Math.sqrt(2.0 * b.totalLayers);
                for (Map.Entry<String, INDArray> e : views.entrySet()) {
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
            return views;
        }

        @Override
        public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
            return views(block(conf.getLayer()), gradientView);
        }

        private static Map<String, INDArray> views(TransformerBlock b, INDArray flat) {
            INDArray line = flat.reshape(flat.length());
            Map<String, INDArray> out = new LinkedHashMap<>();
            long offset = 0;
            for (Map.Entry<String, long[]> e : shapes(b).entrySet()) {
                long size = e.getValue()[0] * e.getValue()[1];
                out.put(e.getKey(), line.get(NDArrayIndex.interval(offset, offset + size)).reshape(e.getValue()));
                offset += size;
            }
            return out;
        }
    }
}
