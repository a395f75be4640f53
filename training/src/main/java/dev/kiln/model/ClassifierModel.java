package dev.kiln.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.ArrayList;
import java.util.List;

/**
 * A pre-trained GPT with its LM head replaced by a {@link ClassifierHead} (named {@value #HEAD}):
 * <pre>
 *   tokens [B, 1, T] (+ features mask [B, T]) -> wte -> wpe -> blocks -> lnf [B, C, T] -> classifier [B, K]
 * </pre>
 * A labelled example travels as one int row of {@code T + 2} values: the T token ids (anything after the length;
 * they are masked), the length, and the class index. Lengths reach the head as the features mask.
 */
public final class ClassifierModel {
    public static final String HEAD = "classifier";

    private ClassifierModel() {
    }

    public static ComputationGraphConfiguration configuration(GptConfig shape, int classes, ClassifierHead.Pooling pooling,
                                                              double[] classWeights, IUpdater updater, double weightDecay,
                                                              long seed, DataType dataType) {
        ClassifierHead head = new ClassifierHead.Builder().nIn(shape.dModel()).nOut(classes).pooling(pooling)
                .classWeights(classWeights)
                .weightInit(new WeightInitDistribution(new NormalDistribution(0, GptModel.INIT_STD))).build();
        return GptModel.configuration(shape, updater, weightDecay, seed, dataType, HEAD, head, GptModel.Trunk.HAND_WRITTEN);
    }

    /**
     * A classifier whose transformer starts from {@code parent}'s weights (every layer but the LM head, by name) and
     * whose head is freshly initialised from {@code seed}. Layers named in {@code frozen} get no weight decay (the
     * trainer also zeroes their gradients, so they stay exactly as pre-trained).
     */
    public static ComputationGraph fromParent(ComputationGraph parent, int classes, ClassifierHead.Pooling pooling,
                                              double[] classWeights, IUpdater updater, double weightDecay, long seed,
                                              List<String> frozen) {
        GptConfig shape = GptModel.shapeOf(parent);
        ComputationGraphConfiguration conf = configuration(shape, classes, pooling, classWeights, updater, weightDecay,
                seed, parent.getConfiguration().getDataType());
        withoutWeightDecay(conf, frozen);
        ComputationGraph model = new ComputationGraph(conf);
        Nd4j.getRandom().setSeed(seed);
        model.init();
        for (String name : transformerLayers(shape)) {
            INDArray from = parent.getLayer(name).params();
            INDArray to = model.getLayer(name).params();
            if (from.length() != to.length()) {
                throw new IllegalStateException("layer " + name + ": parent has " + from.length() + " parameters, the classifier "
                        + to.length());
            }
            to.assign(from.reshape(to.shape()));
        }
        return model;
    }

    /** Turns weight decay off for the named layers (frozen ones must not shrink). */
    public static void withoutWeightDecay(ComputationGraphConfiguration conf, List<String> layers) {
        for (String name : layers) {
            if (!(conf.getVertices().get(name) instanceof LayerVertex v)
                    || !(v.getLayerConf().getLayer() instanceof BaseLayer l)) {
                throw new IllegalArgumentException("no trainable layer " + name + " in " + conf.getVertices().keySet());
            }
            l.setRegularization(new ArrayList<>());
            l.setRegularizationBias(new ArrayList<>());
        }
    }

    /** The layers below the head, bottom first: wte, wpe, block0 .. block{L-1}, lnf. */
    public static List<String> transformerLayers(GptConfig shape) {
        List<String> out = new ArrayList<>(List.of(GptModel.TOKEN_EMBEDDING, GptModel.POSITION_EMBEDDING));
        for (int i = 0; i < shape.layers(); i++) {
            out.add(GptModel.block(i));
        }
        out.add(GptModel.FINAL_NORM);
        return out;
    }

    /** The row of an example: {@code T} ids (zero after the length), its length, its class. */
    public static int[] row(int[] ids, int contextLength, int classIndex) {
        if (ids.length == 0 || ids.length > contextLength) {
            throw new IllegalArgumentException("an example needs 1.." + contextLength + " tokens, got " + ids.length);
        }
        int[] row = new int[contextLength + 2];
        System.arraycopy(ids, 0, row, 0, ids.length);
        row[contextLength] = ids.length;
        row[contextLength + 1] = classIndex;
        return row;
    }

    /** Tokens {@code [B, 1, T]}, features mask {@code [B, T]} and one-hot labels {@code [B, K]} of example rows. */
    public static DataSet dataSet(int[][] rows, int classes, DataType dataType) {
        int b = rows.length;
        int t = rows[0].length - 2;
        double[] tokens = new double[b * t];
        double[] mask = new double[b * t];
        double[] labels = new double[b * classes];
        for (int i = 0; i < b; i++) {
            int len = rows[i][t];
            int y = rows[i][t + 1];
            if (rows[i].length != t + 2 || len < 1 || len > t || y < 0 || y >= classes) {
                throw new IllegalArgumentException("example row " + i + " is malformed: " + rows[i].length
                        + " values, length " + len + ", class " + y + " (expected " + (t + 2) + " values, length 1.." + t
                        + ", class 0.." + (classes - 1) + ")");
            }
            for (int j = 0; j < t; j++) {
                tokens[i * t + j] = rows[i][j];
                mask[i * t + j] = j < len ? 1 : 0;
            }
            labels[i * classes + y] = 1;
        }
        return new DataSet(Nd4j.create(tokens, new long[]{b, 1, t}, dataType), Nd4j.create(labels, new long[]{b, classes}, dataType),
                Nd4j.create(mask, new long[]{b, t}, dataType), null);
    }

    /** Class probabilities {@code [B, K]} of example rows (their class values are not read), in inference mode. */
    public static INDArray probabilities(ComputationGraph model, int[][] rows) {
        int t = rows[0].length - 2;
        int[][] unlabelled = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            unlabelled[i] = rows[i].clone();
            unlabelled[i][t + 1] = 0;
        }
        DataSet d = dataSet(unlabelled, classes(model), model.getConfiguration().getDataType());
        return model.output(false, new INDArray[]{d.getFeatures()}, new INDArray[]{d.getFeaturesMaskArray()})[0];
    }

    /** K, the classes of a classifier's head. */
    public static int classes(ComputationGraph model) {
        if (!(model.getConfiguration().getVertices().get(HEAD) instanceof LayerVertex v)
                || !(v.getLayerConf().getLayer() instanceof ClassifierHead head)) {
            throw new IllegalArgumentException("not a Kiln classifier: no " + ClassifierHead.class.getSimpleName()
                    + " named " + HEAD + " among " + model.getConfiguration().getVertices().keySet());
        }
        return (int) head.getNOut();
    }
}
