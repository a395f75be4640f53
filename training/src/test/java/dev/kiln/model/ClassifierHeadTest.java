package dev.kiln.model;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classification head in double precision: finite-difference gradients of the whole graph with a features
 * mask (last-token and mean pooling, class weights), and pooling by length: tokens after the length change nothing,
 * the last real token changes the output, and the pooled state is the unmasked model's hidden state at length - 1.
 */
class ClassifierHeadTest {
    private static DataType savedDefault;
    private static DataType savedFloatingDefault;
    private static final GptConfig CFG = new GptConfig(11, 6, 8, 1, 2, 2);
    private static final int K = 3;

    @BeforeAll
    static void doublePrecision() {
        savedDefault = Nd4j.dataType();
        savedFloatingDefault = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterAll
    static void restore() {
        Nd4j.setDefaultDataTypes(savedDefault, savedFloatingDefault);
    }

    private static ComputationGraph model(ClassifierHead.Pooling pooling, double[] weights, long seed) {
        ComputationGraphConfiguration conf = ClassifierModel.configuration(CFG, K, pooling, weights, new NoOp(), 0.0, seed,
                DataType.DOUBLE);
        ComputationGraph graph = new ComputationGraph(conf);
        Nd4j.getRandom().setSeed(seed);
        graph.init();
        // Larger head weights than the 0.02 init, so the head's gradient is not tiny next to finite-difference noise.
        graph.getLayer(ClassifierModel.HEAD).getParam("W").muli(20);
        return graph;
    }

    /** Rows with lengths 6, 3, 1, 4 and random tokens everywhere (also after the length). */
    private static int[][] rows(long seed) {
        Random r = new Random(seed);
        int[] lengths = {6, 3, 1, 4};
        int[][] rows = new int[lengths.length][];
        for (int i = 0; i < rows.length; i++) {
            int[] ids = new int[lengths[i]];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = r.nextInt(CFG.vocabSize());
            }
            rows[i] = ClassifierModel.row(ids, CFG.contextLength(), i % K);
            for (int j = lengths[i]; j < CFG.contextLength(); j++) {
                rows[i][j] = r.nextInt(CFG.vocabSize());
            }
        }
        return rows;
    }

    private static boolean gradientsMatch(ComputationGraph net, int[][] rows) {
        DataSet d = ClassifierModel.dataSet(rows, K, DataType.DOUBLE);
        return GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(net)
                .inputs(new INDArray[]{d.getFeatures()})
                .labels(new INDArray[]{d.getLabels()})
                .inputMask(new INDArray[]{d.getFeaturesMaskArray()})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .subset(true).maxPerParam(12)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                .exitOnFirstError(false));
    }

    @Test
    void gradientsOfLastTokenPoolingMatchFiniteDifferences() {
        assertTrue(gradientsMatch(model(ClassifierHead.Pooling.LAST, null, 1), rows(2)),
                "analytic gradients differ from finite differences (see the log)");
    }

    @Test
    void gradientsOfMeanPoolingWithClassWeightsMatchFiniteDifferences() {
        assertTrue(gradientsMatch(model(ClassifierHead.Pooling.MEAN, new double[]{0.5, 2.0, 1.0}, 3), rows(4)),
                "analytic gradients differ from finite differences (see the log)");
    }

    @Test
    void poolingReadsTheLastRealTokenByLength() {
        ComputationGraph net = model(ClassifierHead.Pooling.LAST, null, 5);
        int[][] rows = rows(6);
        INDArray p = ClassifierModel.probabilities(net, rows);

        int t = CFG.contextLength();
        int[][] padded = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            padded[i] = rows[i].clone();
            for (int j = rows[i][t]; j < t; j++) {
                padded[i][j] = (padded[i][j] + 1 + j) % CFG.vocabSize(); // other tokens after the length
            }
        }
        assertArrayEquals(flat(p), flat(ClassifierModel.probabilities(net, padded)), 1e-12,
                "tokens after the length change nothing");

        int[][] lastChanged = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            lastChanged[i] = rows[i].clone();
            int last = rows[i][t] - 1;
            lastChanged[i][last] = (rows[i][last] + 5) % CFG.vocabSize();
        }
        INDArray q = ClassifierModel.probabilities(net, lastChanged);
        for (int i = 0; i < rows.length; i++) {
            double diff = Math.abs(p.getDouble(i, 0) - q.getDouble(i, 0));
            assertTrue(diff > 1e-6, "changing the last real token of example " + i + " changes its output, diff " + diff);
        }

        // The pooled state is the final LayerNorm's output at position length - 1 of the unmasked model.
        INDArray x = net.feedForward(new INDArray[]{ClassifierModel.dataSet(rows, K, DataType.DOUBLE).getFeatures()}, false)
                .get(GptModel.FINAL_NORM);                                                          // [B, C, T]
        INDArray w = net.getLayer(ClassifierModel.HEAD).getParam("W");
        INDArray b = net.getLayer(ClassifierModel.HEAD).getParam("b");
        for (int i = 0; i < rows.length; i++) {
            INDArray h = x.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.point(rows[i][t] - 1))
                    .reshape(1, CFG.dModel());
            double[] z = h.mmul(w).addRowVector(b.reshape(1, K)).toDoubleVector();
            double max = Math.max(z[0], Math.max(z[1], z[2]));
            double sum = 0;
            for (double zi : z) {
                sum += Math.exp(zi - max);
            }
            for (int k = 0; k < K; k++) {
                assertEquals(Math.exp(z[k] - max) / sum, p.getDouble(i, k), 1e-10, "example " + i + " class " + k);
            }
        }
    }

    private static double[] flat(INDArray a) {
        return a.dup('c').reshape(a.length()).toDoubleVector();
    }

    @Test
    void aMaskThatIsNotAPrefixIsRefused() {
        ComputationGraph net = model(ClassifierHead.Pooling.LAST, null, 7);
        DataSet d = ClassifierModel.dataSet(rows(8), K, DataType.DOUBLE);
        INDArray mask = d.getFeaturesMaskArray().dup();
        mask.putScalar(1, 0, 0.0); // a hole at the start of a length-3 sequence
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.output(false, new INDArray[]{d.getFeatures()}, new INDArray[]{mask}));
        assertTrue(e.getMessage().contains("not a prefix"), e.getMessage());
    }
}
