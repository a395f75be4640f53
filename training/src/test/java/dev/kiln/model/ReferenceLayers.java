package dev.kiln.model;

import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * The reference implementations the hand-written layers are checked against (as llm.c keeps its reference model
 * beside its tests): the same math as the production layers, built from SameDiff and DL4J's own layers, slower and
 * differentiated by the library. Models never use them; the tests and the step benchmark do.
 */
public final class ReferenceLayers {
    /** Position embedding, blocks and final LayerNorm as SameDiff layers, parameters named as the production ones. */
    public static final GptModel.Trunk SAMEDIFF_TRUNK = new GptModel.Trunk(
            c -> new SameDiffPositionEmbedding(c.dModel(), c.contextLength()),
            SameDiffTransformerBlock::new,
            c -> new SameDiffFinalLayerNorm(c.dModel(), c.contextLength()));

    private ReferenceLayers() {
    }

    /**
     * DL4J's own {@code RnnOutputLayer} with {@code LossSparseMCXENT}: the same parameters, score and gradients as
     * {@link FusedLmHead}, several times slower.
     */
    public static Layer dl4jHead(GptConfig cfg) {
        return new RnnOutputLayer.Builder(new LossSparseMCXENT()).hasBias(cfg.headBias())
                .nIn(cfg.dModel()).nOut(cfg.vocabSize()).activation(Activation.SOFTMAX).dataFormat(RNNFormat.NCW)
                .weightInit(new WeightInitDistribution(new NormalDistribution(0, GptModel.INIT_STD))).build();
    }
}
