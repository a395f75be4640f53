package dev.kiln.model;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused LM head against DL4J's RnnOutputLayer + LossSparseMCXENT on the same weights and inputs (score,
 * gradients of every parameter, probabilities), in double precision, with blocks that do not divide the rows; with
 * and without the head's bias.
 */
class FusedLmHeadTest extends DoublePrecisionTest {
    // V=11, T=5, C=8, 2 blocks of 2 heads: B*T = 15 rows, so 4-row blocks leave a partial last block.
    private static final GptConfig CFG = new GptConfig(11, 5, 8, 2, 2, 2);
    /** The same shape, untied without a head bias. */
    private static final GptConfig NO_BIAS = CFG.withHead(false, false);

    private static ComputationGraph model(boolean fused, int blockRows, long seed) {
        return model(CFG, fused, blockRows, seed);
    }

    /** {@code fused}: Kiln's head; else DL4J's {@code RnnOutputLayer}, the reference (each with a bias if cfg says so). */
    private static ComputationGraph model(GptConfig cfg, boolean fused, int blockRows, long seed) {
        ComputationGraphConfiguration conf = GptModel.configuration(cfg, new NoOp(), 0.0, seed, DataType.DOUBLE,
                GptModel.HEAD, fused ? GptModel.lmHead(cfg) : ReferenceLayers.dl4jHead(cfg), GptModel.Trunk.HAND_WRITTEN);
        if (fused) {
            ((FusedLmHead) ((LayerVertex) conf.getVertices().get(GptModel.HEAD)).getLayerConf().getLayer())
                    .setBlockRows(blockRows);
        }
        ComputationGraph graph = new ComputationGraph(conf);
        Nd4j.getRandom().setSeed(seed);
        graph.init();
        return graph;
    }

    private static int[][] rows(int batch, long seed) {
        return randomRows(batch, CFG.contextLength(), CFG.vocabSize(), seed);
    }

    private static void assertClose(INDArray expected, INDArray actual, double relTol, String what) {
        assertEquals(expected.length(), actual.length(), what + " length");
        double[] e = expected.dup('c').reshape(expected.length()).toDoubleVector();
        double[] a = actual.dup('c').reshape(actual.length()).toDoubleVector();
        double scale = 0;
        for (double x : e) {
            scale = Math.max(scale, Math.abs(x));
        }
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], relTol * scale + 1e-300, what + " element " + i);
        }
    }

    @Test
    void sameScoreGradientsAndProbabilitiesAsDl4jsOutputLayer() {
        sameAsDl4j(CFG);
    }

    @Test
    void withoutBiasSameScoreGradientsAndProbabilitiesAsDl4jsOutputLayerWithoutBias() {
        sameAsDl4j(NO_BIAS);
        ComputationGraph fused = model(NO_BIAS, true, 4, 1);
        assertEquals(model(true, 4, 1).numParams() - NO_BIAS.vocabSize(), fused.numParams(), "no bias parameters");
        assertNull(fused.getLayer(GptModel.HEAD).paramTable().get("b"));
    }

    private static void sameAsDl4j(GptConfig cfg) {
        for (int blockRows : new int[]{4, 256}) {
            ComputationGraph fused = model(cfg, true, blockRows, 21);
            ComputationGraph reference = model(cfg, false, blockRows, 21);
            // Larger than initial weights, so probabilities are far from uniform and errors would show.
            reference.setParams(Nd4j.rand(DataType.DOUBLE, 1, reference.numParams()).subi(0.5).muli(0.8));
            fused.setParams(reference.params().dup());
            int[][] rows = rows(3, 5);

            for (ComputationGraph g : new ComputationGraph[]{fused, reference}) {
                g.setInputs(GptModel.inputs(rows, DataType.DOUBLE));
                g.setLabels(GptModel.labels(rows, DataType.DOUBLE));
                g.computeGradientAndScore();
            }
            assertEquals(reference.score(), fused.score(), 1e-10 * Math.abs(reference.score()), "score, blocks of " + blockRows);
            Map<String, INDArray> expected = reference.gradient().gradientForVariable();
            Map<String, INDArray> actual = fused.gradient().gradientForVariable();
            assertEquals(expected.keySet(), actual.keySet());
            for (String key : expected.keySet()) {
                assertClose(expected.get(key), actual.get(key), 1e-10, "gradient " + key + ", blocks of " + blockRows);
            }
            if (cfg.headBias()) {
                assertClose(GptModel.probabilities(reference, rows), GptModel.probabilities(fused, rows), 1e-10, "probabilities");
            } else { // DL4J's RnnOutputLayer without a bias fails in activate() (adds a null bias): x W by hand instead
                assertClose(softmaxOfNextTokenLogits(fused, rows), GptModel.probabilities(fused, rows), 1e-10, "probabilities");
            }

            INDArray in = GptModel.inputs(rows, DataType.DOUBLE);
            INDArray labels = GptModel.labels(rows, DataType.DOUBLE);
            MultiDataSet data = new MultiDataSet(in, labels);
            assertEquals(reference.score(data), fused.score(data), 1e-10 * Math.abs(reference.score(data)), "score() without backprop");
            // DL4J's own RnnOutputLayer cannot score examples with workspaces on (it returns an array from its working
            // memory): the reference per-example score is the score of each row alone (a minibatch of 1).
            INDArray perExample = fused.scoreExamples(data, false);
            for (int i = 0; i < rows.length; i++) {
                int[][] one = {rows[i]};
                double alone = reference.score(new MultiDataSet(
                        GptModel.inputs(one, DataType.DOUBLE), GptModel.labels(one, DataType.DOUBLE)));
                assertEquals(alone, perExample.getDouble(i, 0), 1e-10 * alone, "score of example " + i);
            }
        }
    }

    /** {@code [B, V, T]}: the softmax of {@link GptModel#nextTokenLogits} at every position (lnf's output times W). */
    private static INDArray softmaxOfNextTokenLogits(ComputationGraph model, int[][] rows) {
        int t = rows[0].length - 1;
        INDArray p = Nd4j.create(DataType.DOUBLE, rows.length, CFG.vocabSize(), t);
        for (int j = 0; j < t; j++) {
            int[] positions = new int[rows.length];
            Arrays.fill(positions, j);
            double[][] z = GptModel.nextTokenLogits(model, rows, positions);
            for (int i = 0; i < rows.length; i++) {
                double max = Arrays.stream(z[i]).max().orElseThrow();
                double sum = Arrays.stream(z[i]).map(x -> Math.exp(x - max)).sum();
                for (int v = 0; v < z[i].length; v++) {
                    p.putScalar(new long[]{i, v, j}, Math.exp(z[i][v] - max) / sum);
                }
            }
        }
        return p;
    }

    @Test
    void gradientsMatchFiniteDifferencesWithPartialBlocks() {
        finiteDifferences(model(true, 4, 3));
    }

    @Test
    void withoutBiasGradientsMatchFiniteDifferences() {
        finiteDifferences(model(NO_BIAS, true, 4, 3));
    }

    private static void finiteDifferences(ComputationGraph fused) {
        int[][] rows = rows(3, 9);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(fused)
                .inputs(new INDArray[]{GptModel.inputs(rows, DataType.DOUBLE)})
                .labels(new INDArray[]{GptModel.labels(rows, DataType.DOUBLE)})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .subset(true).maxPerParam(12)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                .exitOnFirstError(false));
        assertTrue(ok, "analytic gradients differ from finite differences (see the log)");
    }

    /** Logits so peaked that the probability of the label underflows: the loss is still the exact log-sum-exp. */
    @Test
    void lossStaysExactWhenTheLabelsProbabilityUnderflows() {
        underflow(CFG);
        underflow(NO_BIAS);
    }

    private static void underflow(GptConfig cfg) {
        ComputationGraph fused = model(cfg, true, 4, 8);
        INDArray w = fused.getLayer(GptModel.HEAD).getParam("W");
        w.muli(1e5); // logits of order 1e3: exp underflows for all but the largest
        int[][] rows = rows(2, 4);
        INDArray in = GptModel.inputs(rows, DataType.DOUBLE);
        INDArray x = fused.feedForward(in, false).get(GptModel.FINAL_NORM); // [B, C, T]
        INDArray b = cfg.headBias() ? fused.getLayer(GptModel.HEAD).getParam("b") : Nd4j.zeros(DataType.DOUBLE, 1, CFG.vocabSize());
        double expected = 0;
        int t = CFG.contextLength();
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < t; j++) {
                double[] z = x.get(NDArrayIndex.point(i), NDArrayIndex.all(),
                        NDArrayIndex.point(j)).reshape(1, CFG.dModel()).mmul(w).add(b).toDoubleVector();
                double max = Double.NEGATIVE_INFINITY;
                for (double zi : z) {
                    max = Math.max(max, zi);
                }
                double sum = 0;
                for (double zi : z) {
                    sum += Math.exp(zi - max);
                }
                expected += max + Math.log(sum) - z[rows[i][j + 1]];
            }
        }
        double score = fused.score(new MultiDataSet(in, GptModel.labels(rows, DataType.DOUBLE)));
        assertTrue(expected / rows.length > 1000, "the test must reach the underflow regime, mean loss " + expected / rows.length);
        assertEquals(expected / rows.length, score, 1e-9 * expected / rows.length);
    }
}
