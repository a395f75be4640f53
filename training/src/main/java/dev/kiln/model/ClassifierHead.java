package dev.kiln.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;

/**
 * Sequence-classification head: pools the final hidden states {@code [B, C, T]} of each sequence into one vector
 * {@code [B, C]}, then logits {@code z = h W + b} over K classes, softmax and cross-entropy against one-hot labels
 * {@code [B, K]} ({@link ClassifierHeadLayer}).
 *
 * <p>Each sequence's length comes from the features mask {@code [B, T]} (1 on its real tokens, which must be a
 * prefix), which the graph hands to every layer; never from a pad id (a pad id may also be a real token, and
 * searching for "the first pad" breaks with left padding). Without a mask every sequence is T tokens long.
 * {@link Pooling#LAST} takes the hidden state of the last real token: in a causal model it is the only position
 * that has seen the whole document. {@link Pooling#MEAN} averages over the real tokens.
 *
 * <p>Optional class weights scale each example's loss by the weight of its true class (the gradient with it).
 */
public class ClassifierHead extends BaseOutputLayer {
    public enum Pooling { LAST, MEAN }

    private Pooling pooling = Pooling.LAST;
    /** Weight of each class's loss; null: all 1. */
    private double[] classWeights;

    /** For JSON (DL4J rebuilds layer configurations on executors and from checkpoints). */
    public ClassifierHead() {
    }

    private ClassifierHead(Builder builder) {
        super(builder);
        this.pooling = builder.pooling;
        this.classWeights = builder.classWeights;
    }

    public Pooling getPooling() {
        return pooling;
    }

    public void setPooling(Pooling pooling) {
        this.pooling = pooling;
    }

    public double[] getClassWeights() {
        return classWeights;
    }

    public void setClassWeights(double[] classWeights) {
        this.classWeights = classWeights;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType networkDataType) {
        ClassifierHeadLayer layer = new ClassifierHeadLayer(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(paramsView);
        Map<String, INDArray> table = initializer().init(conf, paramsView, initializeParams);
        layer.setParamTable(table);
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return DefaultParamInitializer.getInstance();
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeRecurrent)) {
            throw new IllegalStateException("ClassifierHead expects recurrent input [B, C, T], got " + inputType);
        }
        return InputType.feedForward(nOut);
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        // Sizes are explicit: input-type inference resets sizes in DL4J 1.0.0-M2.1.
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    public static final class Builder extends BaseOutputLayer.Builder<Builder> {
        private Pooling pooling = Pooling.LAST;
        private double[] classWeights;

        public Builder() {
            // Recorded for readers of the JSON; the layer computes softmax and cross-entropy itself.
            super(new LossMCXENT());
            activation(Activation.SOFTMAX);
        }

        public Builder pooling(Pooling pooling) {
            this.pooling = pooling;
            return this;
        }

        public Builder classWeights(double[] weights) {
            if (weights != null) {
                for (double w : weights) {
                    if (!(w > 0) || Double.isInfinite(w)) {
                        throw new IllegalArgumentException("class weights must be finite and > 0, got "
                                + Arrays.toString(weights));
                    }
                }
            }
            this.classWeights = weights == null ? null : weights.clone();
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public ClassifierHead build() {
            if (classWeights != null && classWeights.length != nOut) {
                throw new IllegalArgumentException(classWeights.length + " class weights for " + nOut + " classes");
            }
            return new ClassifierHead(this);
        }
    }
}
