package dev.kiln.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

import java.util.Collection;
import java.util.Map;

/**
 * The language-model head: logits {@code z = x W + b} over the vocabulary ({@code z = x W} when built with
 * {@code hasBias(false)}), softmax and the sparse cross-entropy against next-token ids, fused into one pass over blocks
 * of rows ({@link FusedLmHeadLayer}).
 *
 * <p>Same parameters ({@code W [C, V]}, {@code b [1, V]}), same input ({@code [B, C, T]}), labels (ids
 * {@code [B, 1, T]}), score and gradients as DL4J's {@code RnnOutputLayer} with {@code LossSparseMCXENT} and a softmax,
 * which it replaces because that layer spends most of a training step outside its matrix products: it computes the
 * logits twice (for the gradient, then again for the score), keeps all {@code [B*T, V]} of them several times over, sums
 * the bias gradient as a column reduction and clamps probabilities before the log. Inference ({@code output()})
 * returns softmax probabilities {@code [B, V, T]}, exactly like that layer.
 */
public class FusedLmHead extends BaseOutputLayer {
    /** Rows of {@code [B*T]} per block: bounds the working memory to {@code blockRows x V} floats. */
    static final int DEFAULT_BLOCK_ROWS = 256;

    private int blockRows = DEFAULT_BLOCK_ROWS;

    /**
     * For JSON (DL4J rebuilds layer configurations on executors and from checkpoints). DL4J's no-arg constructor sets
     * {@code hasBias = true}, so a layer JSON without that field (as Kiln's checkpoints before the optional head bias
     * could be) reads back as the head with a bias it always had.
     */
    public FusedLmHead() {
    }

    private FusedLmHead(Builder builder) {
        super(builder);
        this.blockRows = builder.blockRows;
    }

    public int getBlockRows() {
        return blockRows;
    }

    public void setBlockRows(int blockRows) {
        this.blockRows = blockRows;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType networkDataType) {
        FusedLmHeadLayer layer = new FusedLmHeadLayer(conf, networkDataType);
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
        if (!(inputType instanceof InputType.InputTypeRecurrent recurrent)) {
            throw new IllegalStateException("FusedLmHead expects recurrent input [B, C, T], got " + inputType);
        }
        return InputType.recurrent(nOut, recurrent.getTimeSeriesLength(), RNNFormat.NCW);
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
        private int blockRows = DEFAULT_BLOCK_ROWS;

        public Builder() {
            // The loss and activation are those the fused pass computes; they are recorded for readers of the JSON.
            super(new LossSparseMCXENT());
            activation(Activation.SOFTMAX);
        }

        public Builder blockRows(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("blockRows must be >= 1, got " + rows);
            }
            this.blockRows = rows;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public FusedLmHead build() {
            return new FusedLmHead(this);
        }
    }
}
