package dev.kiln.model;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-written block against the SameDiff one (same math, gradients by SameDiff's autodiff) on the same weights
 * and inputs, in double precision: forward and every parameter's gradient to 1e-10 relative. Also keeps the SameDiff
 * reference itself under a gradient check, which guards the 2x-gradient compensation if DL4J is upgraded.
 */
class TransformerBlockTest extends DoublePrecisionTest {
    // Two blocks of 2 heads (hs 4), T = 6, MLP ratio 2, batch 3.
    private static final GptConfig CFG = new GptConfig(9, 6, 8, 2, 2, 2);

    private static ComputationGraph model(GptModel.Trunk trunk, long seed) {
        ComputationGraph g = new ComputationGraph(GptModel.configuration(CFG, new NoOp(), 0.0, seed, DataType.DOUBLE,
                GptModel.HEAD, GptModel.lmHead(CFG), trunk));
        Nd4j.getRandom().setSeed(seed);
        g.init();
        return g;
    }

    private static int[][] rows(int batch, long seed) {
        return randomRows(batch, CFG.contextLength(), CFG.vocabSize(), seed);
    }

    private static void assertClose(INDArray expected, INDArray actual, double relTol, String what) {
        double[] e = expected.dup('c').reshape(expected.length()).toDoubleVector();
        double[] a = actual.dup('c').reshape(actual.length()).toDoubleVector();
        assertEquals(e.length, a.length, what + " length");
        double scale = 0;
        for (double x : e) {
            scale = Math.max(scale, Math.abs(x));
        }
        assertTrue(scale > 0, what + " is all zeros: the comparison would prove nothing");
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], relTol * scale, what + " element " + i);
        }
    }

    @Test
    void sameOutputsAndGradientsAsTheSameDiffBlock() {
        ComputationGraph reference = model(ReferenceLayers.SAMEDIFF_TRUNK, 4);
        ComputationGraph fast = model(GptModel.Trunk.HAND_WRITTEN, 4);
        // Random weights of a useful size everywhere (gains and biases too), copied parameter by parameter.
        reference.setParams(Nd4j.rand(DataType.DOUBLE, 1, reference.numParams()).subi(0.5).muli(0.6));
        for (Layer layer : reference.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                INDArray target = fast.getLayer(name).getParam(e.getKey());
                target.assign(e.getValue().reshape(target.shape()));
            }
        }
        int[][] rows = rows(3, 11);
        assertClose(GptModel.probabilities(reference, rows), GptModel.probabilities(fast, rows), 1e-10, "probabilities");

        for (ComputationGraph g : new ComputationGraph[]{reference, fast}) {
            g.setInputs(GptModel.inputs(rows, DataType.DOUBLE));
            g.setLabels(GptModel.labels(rows, DataType.DOUBLE));
            g.computeGradientAndScore();
        }
        assertEquals(reference.score(), fast.score(), 1e-10 * reference.score(), "score");
        for (int i = 0; i < CFG.layers(); i++) {
            String block = GptModel.block(i);
            Map<String, INDArray> expected = reference.gradient().gradientForVariable();
            Map<String, INDArray> actual = fast.gradient().gradientForVariable();
            for (String key : fast.getLayer(block).paramTable().keySet()) {
                String flatKey = block + "_" + key;
                assertTrue(expected.containsKey(flatKey) && actual.containsKey(flatKey), flatKey);
                assertClose(expected.get(flatKey), actual.get(flatKey).reshape(expected.get(flatKey).shape()), 1e-10,
                        "gradient " + flatKey);
            }
        }
        // Everything below the blocks sees the blocks' input gradient: the embeddings' gradients must match too.
        for (String key : new String[]{GptModel.TOKEN_EMBEDDING + "_W", GptModel.POSITION_EMBEDDING + "_" + PositionEmbedding.POSITIONS,
                GptModel.FINAL_NORM + "_" + FinalLayerNorm.GAIN, GptModel.FINAL_NORM + "_" + FinalLayerNorm.BIAS}) {
            assertClose(reference.gradient().gradientForVariable().get(key), fast.gradient().gradientForVariable().get(key),
                    1e-10, "gradient " + key);
        }
    }

    @Test
    void sameDiffReferenceStillMatchesFiniteDifferences() {
        ComputationGraph reference = model(ReferenceLayers.SAMEDIFF_TRUNK, 6);
        int[][] rows = rows(2, 3);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(reference)
                .inputs(new INDArray[]{GptModel.inputs(rows, DataType.DOUBLE)})
                .labels(new INDArray[]{GptModel.labels(rows, DataType.DOUBLE)})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .subset(true).maxPerParam(8)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                .exitOnFirstError(false));
        assertTrue(ok, "the SameDiff reference's gradients differ from finite differences (see the log)");
    }
}
