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
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Configuration side of Kiln's layers with a hand-written forward and backward over ND4J ops (no SameDiff): each
 * maps DL4J's recurrent layout {@code [B, dModel, T]} to the same shape, names its parameters and their shapes, and
 * initialises them. Sizes are explicit fields: DL4J 1.0.0-M2.1's input-type inference resets sizes.
 */
public abstract class HandWrittenLayer extends BaseLayer {
    /** Channels of the input and output {@code [B, dModel, T]}. */
    protected int dModel;
    /** Fixed sequence length T. */
    protected int contextLength;

    protected HandWrittenLayer() {
        // public no-arg constructors in subclasses: DL4J rebuilds layers from JSON on executors and from checkpoints.
    }

    protected HandWrittenLayer(int dModel, int contextLength) {
        this.dModel = dModel;
        this.contextLength = contextLength;
    }

    /** Parameter names and shapes, in the order they sit in the flat parameter view. */
    abstract Map<String, long[]> paramShapes();

    /** Initial values, written into the parameter views (ND4J's global generator, seeded by {@link GptModel#build}). */
    abstract void initialize(Map<String, INDArray> params);

    /** Whether weight decay applies to the parameter (matrices and embeddings; not biases and LayerNorm gains). */
    boolean decays(String key) {
        return key.endsWith("W");
    }

    abstract org.deeplearning4j.nn.layers.BaseLayer<?> runtime(NeuralNetConfiguration conf, DataType dataType);

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType networkDataType) {
        org.deeplearning4j.nn.layers.BaseLayer<?> layer = runtime(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return ShapedParams.INSTANCE;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.recurrent(dModel, contextLength, RNNFormat.NCW);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        // Sizes are explicit (see class comment).
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(getLayerName(), getClass(), inputType, getOutputType(-1, inputType))
                .standardMemory(ShapedParams.INSTANCE.numParams(this), 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
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

    /** Views of the flat parameter (or gradient) array, one per {@link #paramShapes()} entry, in c order. */
    static final class ShapedParams implements ParamInitializer {
        static final ShapedParams INSTANCE = new ShapedParams();

        private static HandWrittenLayer layer(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return (HandWrittenLayer) layer;
        }

        @Override
        public long numParams(NeuralNetConfiguration conf) {
            return numParams(conf.getLayer());
        }

        @Override
        public long numParams(org.deeplearning4j.nn.conf.layers.Layer layer) {
            long n = 0;
            for (long[] shape : layer(layer).paramShapes().values()) {
                n += shape[0] * shape[1];
            }
            return n;
        }

        @Override
        public List<String> paramKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return new ArrayList<>(layer(layer).paramShapes().keySet());
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
            return layer(layer).decays(key);
        }

        @Override
        public boolean isBiasParam(org.deeplearning4j.nn.conf.layers.Layer layer, String key) {
            return !isWeightParam(layer, key);
        }

        @Override
        public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
            HandWrittenLayer l = layer(conf.getLayer());
            Map<String, INDArray> views = views(l, paramsView);
            for (String key : views.keySet()) {
                conf.addVariable(key);
            }
            if (initializeParams) {
                l.initialize(views);
            }
            return views;
        }

        @Override
        public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
            return views(layer(conf.getLayer()), gradientView);
        }

        private static Map<String, INDArray> views(HandWrittenLayer l, INDArray flat) {
            INDArray line = flat.reshape(flat.length());
            Map<String, INDArray> out = new LinkedHashMap<>();
            long offset = 0;
            for (Map.Entry<String, long[]> e : l.paramShapes().entrySet()) {
                long size = e.getValue()[0] * e.getValue()[1];
                out.put(e.getKey(), line.get(NDArrayIndex.interval(offset, offset + size)).reshape(e.getValue()));
                offset += size;
            }
            return out;
        }
    }
}
