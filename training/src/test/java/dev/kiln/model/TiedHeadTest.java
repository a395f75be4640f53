package dev.kiln.model;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tied head (GPT-2's: logits = h wte^T, no bias): gradients, the backprop ordering contract, loading. */
class TiedHeadTest extends DoublePrecisionTest {
    private static final GptConfig TIED = new GptConfig(7, 4, 4, 2, 2, 2, true);

    /** Central differences on every entry of the tied wte (both of its uses) and on samples of every other parameter. */
    @Test
    void wholeTiedModelGradientsMatchFiniteDifferences() {
        ComputationGraph model = GptModel.build(TIED, new NoOp(), 0.0, 12345, DataType.DOUBLE);
        int[][] rows = randomRows(2, TIED.contextLength(), TIED.vocabSize(), 7);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(model)
                .inputs(new INDArray[]{GptModel.inputs(rows, DataType.DOUBLE)})
                .labels(new INDArray[]{GptModel.labels(rows, DataType.DOUBLE)})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                // wte has 7 x 4 = 28 entries: all of them; up to 28 of every other tensor.
                .subset(true).maxPerParam(28)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                .exitOnFirstError(false));
        assertTrue(ok, "analytic gradients differ from finite differences (see the log for the parameters)");
    }

    /**
     * The ordering contract: the head assigns its dW (so nothing of the previous step remains) and the embedding adds
     * its scatter. Checked against an untied model with the same weights (head W = wte^T, b = 0): the tied gradient is
     * the sum of the untied model's embedding gradient and its head gradient transposed, also on a second call.
     */
    @Test
    void tiedGradientIsTheSumOfBothUsesAndDoesNotAccumulate() {
        ComputationGraph tied = GptModel.build(TIED, new NoOp(), 0.0, 3, DataType.DOUBLE);
        ComputationGraph untied = GptModel.build(TIED.withTiedEmbeddings(false), new NoOp(), 0.0, 3, DataType.DOUBLE);
        for (String layer : new String[]{GptModel.POSITION_EMBEDDING, GptModel.block(0), GptModel.block(1), GptModel.FINAL_NORM}) {
            untied.getLayer(layer).params().assign(tied.getLayer(layer).params());
        }
        INDArray wte = tied.getLayer(GptModel.TOKEN_EMBEDDING).getParam("W");             // [V, C]
        untied.getLayer(GptModel.TOKEN_EMBEDDING).getParam("W").assign(wte);
        untied.getLayer(GptModel.HEAD).getParam("W").assign(wte.transpose());
        untied.getLayer(GptModel.HEAD).getParam("b").assign(0);
        int[][] rows = randomRows(3, TIED.contextLength(), TIED.vocabSize(), 11);

        double[] expected = null;
        for (int call = 0; call < 2; call++) {
            tied.setInputs(GptModel.inputs(rows, DataType.DOUBLE));
            tied.setLabels(GptModel.labels(rows, DataType.DOUBLE));
            tied.computeGradientAndScore();
            untied.setInputs(GptModel.inputs(rows, DataType.DOUBLE));
            untied.setLabels(GptModel.labels(rows, DataType.DOUBLE));
            untied.computeGradientAndScore();
            assertEquals(untied.score(), tied.score(), 1e-12, "same function");
            INDArray sum = untied.gradient().getGradientFor(GptModel.TOKEN_EMBEDDING + "_W").reshape(7, 4)
                    .add(untied.gradient().getGradientFor(GptModel.HEAD + "_W").transpose());    // [V, C]
            double[] got = tied.gradient().getGradientFor(GptModel.TOKEN_EMBEDDING + "_W").dup().reshape(28).toDoubleVector();
            assertArrayEquals(sum.reshape(28).toDoubleVector(), got, 1e-12, "call " + call);
            if (expected != null) {
                assertArrayEquals(expected, got, 0.0, "a second backward pass on the same batch gives the same gradient");
            }
            expected = got;
        }
        assertEquals(untied.numParams() - 7 * 4 - 7, tied.numParams(), "the tied head has no parameters of its own");
    }

    /** A tied model survives DL4J's serialisation (JSON configuration + flat parameters) once tied again. */
    @Test
    void reloadedTiedModelGivesTheSameProbabilities() throws IOException {
        ComputationGraph model = GptModel.build(TIED, new NoOp(), 0.0, 5, DataType.DOUBLE);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(model, bytes, false);
        ComputationGraph back = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes.toByteArray()), false);
        int[][] rows = randomRows(2, TIED.contextLength(), TIED.vocabSize(), 9);

        IllegalStateException untiedUse = assertThrows(IllegalStateException.class, () -> GptModel.probabilities(back, rows));
        assertTrue(untiedUse.getMessage().contains("GptModel.tie"), untiedUse.getMessage());

        GptModel.tie(back);
        GptModel.tie(back); // idempotent
        assertEquals(TIED, GptModel.shapeOf(back));
        assertArrayEquals(GptModel.probabilities(model, rows).reshape(-1).toDoubleVector(),
                GptModel.probabilities(back, rows).reshape(-1).toDoubleVector(), 0.0);
        assertNull(GptModel.headWeights(back)[1], "no head bias");
    }

    /** Decoding's one-position logits and the KV-cached path agree with the full forward pass when tied. */
    @Test
    void nextTokenLogitsAndCachedInferenceMatchTheFullPass() {
        ComputationGraph model = GptModel.build(TIED, new NoOp(), 0.0, 8, DataType.DOUBLE);
        int[][] rows = randomRows(2, TIED.contextLength(), TIED.vocabSize(), 13);
        INDArray p = GptModel.probabilities(model, rows);                                  // [B, V, T]
        double[][] logits = GptModel.nextTokenLogits(model, rows, new int[]{3, 3});
        GptInference cached = new GptInference(model);
        KvCache cache = cached.newCache(2);
        double[][] fromCache = cached.forward(cache, new int[]{0, 1},
                new int[][]{Arrays.copyOf(rows[0], 4), Arrays.copyOf(rows[1], 4)}, new int[]{0, 0});
        for (int i = 0; i < 2; i++) {
            double[] softmax = softmax(logits[i]);
            double[] cachedSoftmax = softmax(fromCache[i]);
            for (int v = 0; v < TIED.vocabSize(); v++) {
                assertEquals(p.getDouble(i, v, 3), softmax[v], 1e-12);
                assertEquals(p.getDouble(i, v, 3), cachedSoftmax[v], 1e-5); // the cached path computes in float
            }
        }
    }

    private static double[] softmax(double[] z) {
        double max = Arrays.stream(z).max().orElseThrow();
        double[] e = Arrays.stream(z).map(x -> Math.exp(x - max)).toArray();
        double sum = Arrays.stream(e).sum();
        return Arrays.stream(e).map(x -> x / sum).toArray();
    }
}
