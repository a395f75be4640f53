package dev.kiln.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.params.EmptyParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

import java.util.Collection;

/**
 * GPT-2's LM head: logits {@code z = x W_wte^T} with the token embedding's matrix ({@link TokenEmbedding},
 * {@code [V, C]}) and no bias; no parameters of its own. The same fused softmax/cross-entropy pass as
 * {@link FusedLmHead} ({@link FusedLmHeadLayer}); {@link GptModel#tie} hands it the embedding after a graph is made.
 */
public class TiedLmHead extends FusedLmHead {
    /** For JSON. */
    public TiedLmHead() {
    }

    public TiedLmHead(int dModel, int vocabSize) {
        setNIn(dModel);
        setNOut(vocabSize);
        setHasBias(false);
        // The loss and activation the fused pass computes, recorded for readers of the JSON (as FusedLmHead.Builder does).
        setLossFn(new LossSparseMCXENT());
        setActivationFn(Activation.SOFTMAX.getActivationFunction());
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType networkDataType) {
        FusedLmHeadLayer layer = new FusedLmHeadLayer(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamTable(initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return EmptyParamInitializer.getInstance();
    }
}
