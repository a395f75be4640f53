package dev.kiln.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Map;

/**
 * Base of Kiln's SameDiff layers. Works around a DL4J 1.0.0-M2.1 bug: every {@code SameDiffLayer} back-propagates
 * twice the true gradient ({@code ExternalErrorsFunction.doDiff()} both registers and returns it, so {@code diff()}
 * adds it twice), compounding through stacked layers. Back-propagation is linear in the incoming error, so halving
 * it before delegating gives the exact gradient for this layer's parameters and for its input.
 *
 * <p>The whole-model double-precision gradient check in the tests fails if a DL4J upgrade fixes the bug (then this
 * halving would make gradients half the truth): remove {@link #EPSILON_SCALE} then.
 *
 * <p>The layers work on DL4J's recurrent NCW layout {@code [B, C, T]} and keep their sizes in their own fields:
 * {@code setNIn} is a no-op because input-type inference resets sizes in M2.1. The width and the
 * context length every layer needs live here; subclasses add their own sizes.
 */
public abstract class CompensatedSameDiffLayer extends SameDiffLayer {
    /** Scale applied to the incoming error to undo the 2x of DL4J 1.0.0-M2.1. */
    static final double EPSILON_SCALE = 0.5;

    /** Channels (model width) of the layer's input and output {@code [B, dModel, T]}. */
    protected int dModel;
    /** Fixed sequence length T (the causal mask and reshapes are built for it). */
    protected int contextLength;

    protected CompensatedSameDiffLayer() {
        // public no-arg constructors in subclasses: DL4J builds layers from JSON on executors.
    }

    protected CompensatedSameDiffLayer(int dModel, int contextLength) {
        this.dModel = dModel;
        this.contextLength = contextLength;
    }

    /** Every Kiln layer maps {@code [B, dModel, T]} to {@code [B, dModel, T]}. */
    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.recurrent(dModel, contextLength, RNNFormat.NCW);
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

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType networkDataType) {
        // Same steps as SameDiffLayer.instantiate, with the compensating implementation.
        HalvedErrorLayer layer = new HalvedErrorLayer(conf, networkDataType);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(paramsView);
        Map<String, INDArray> table = initializer().init(conf, paramsView, initializeParams);
        layer.setParamTable(table);
        layer.setConf(conf);
        return layer;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        // Sizes are explicit (see class comment).
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    /** The runtime layer: DL4J's SameDiff layer with the incoming error halved. */
    static final class HalvedErrorLayer extends org.deeplearning4j.nn.layers.samediff.SameDiffLayer {
        HalvedErrorLayer(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            return super.backpropGradient(epsilon.mul(EPSILON_SCALE), workspaceMgr);
        }
    }
}
