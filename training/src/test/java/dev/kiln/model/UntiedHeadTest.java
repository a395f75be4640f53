package dev.kiln.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.generate.GenerationCheckpoint;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The untied LM head without a bias (Hugging Face's untied GPT-2 {@code lm_head}): gradients, decoding paths, loading;
 * and checkpoints of the untied head with a bias written before the bias was optional, whose layer JSON has no
 * {@code hasBias}: they load as the head with a bias and compute exactly as before.
 */
class UntiedHeadTest extends DoublePrecisionTest {
    private static final GptConfig BIASED = new GptConfig(7, 4, 4, 2, 2, 2);
    private static final GptConfig NO_BIAS = BIASED.withHead(false, false);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aTiedHeadWithABiasIsNotAShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BIASED.withHead(true, true));
        assertTrue(e.getMessage().contains("no bias"), e.getMessage());
        assertTrue(BIASED.headBias() && !BIASED.tiedEmbeddings(), "the 6-argument shape is the earlier checkpoints' layout");
    }

    /** Central differences on every entry of the head's W and samples of every other parameter. */
    @Test
    void wholeBiasFreeModelGradientsMatchFiniteDifferences() {
        ComputationGraph model = GptModel.build(NO_BIAS, new NoOp(), 0.0, 12345, DataType.DOUBLE);
        assertNull(model.getLayer(GptModel.HEAD).paramTable().get("b"), "no bias parameter");
        assertEquals(GptModel.build(BIASED, new NoOp(), 0.0, 1, DataType.DOUBLE).numParams() - 7, model.numParams());
        int[][] rows = randomRows(2, NO_BIAS.contextLength(), NO_BIAS.vocabSize(), 7);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(model)
                .inputs(new INDArray[]{GptModel.inputs(rows, DataType.DOUBLE)})
                .labels(new INDArray[]{GptModel.labels(rows, DataType.DOUBLE)})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .subset(true).maxPerParam(28)                                   // the head's W is 4 x 7 = 28: all of it
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                .exitOnFirstError(false));
        assertTrue(ok, "analytic gradients differ from finite differences (see the log for the parameters)");
    }

    /** Decoding's one-position logits and the KV-cached path agree with the full forward pass without a bias. */
    @Test
    void nextTokenLogitsAndCachedInferenceMatchTheFullPass() {
        ComputationGraph model = GptModel.build(NO_BIAS, new NoOp(), 0.0, 8, DataType.DOUBLE);
        model.getLayer(GptModel.HEAD).getParam("W").muli(30); // logits far from uniform
        assertNull(GptModel.headWeights(model)[1]);
        assertProbabilitiesAgree(model);
    }

    /** A bias-free untied model survives DL4J's serialisation: same shape (no bias), same probabilities. */
    @Test
    void reloadedBiasFreeModelIsTheSame() throws IOException {
        ComputationGraph model = GptModel.build(NO_BIAS, new NoOp(), 0.0, 5, DataType.DOUBLE);
        ComputationGraph back = GenerationCheckpoint.restore(zip(model));
        assertEquals(NO_BIAS, GptModel.shapeOf(back));
        int[][] rows = randomRows(2, NO_BIAS.contextLength(), NO_BIAS.vocabSize(), 9);
        assertArrayEquals(GptModel.probabilities(model, rows).reshape(-1).toDoubleVector(),
                GptModel.probabilities(back, rows).reshape(-1).toDoubleVector(), 0.0);
    }

    /**
     * An earlier checkpoint: an untied model with a bias whose configuration.json has no hasBias field on its head
     * (removed here from a real model.zip). It loads as the untied head with its bias, gives the same probabilities,
     * decodes through both paths and trains exactly like the model it was written from.
     */
    @Test
    void aCheckpointWithoutTheHasBiasFieldLoadsTrainsAndDecodesWithItsBias() throws IOException {
        ComputationGraph model = GptModel.build(BIASED, new Sgd(0.1), 0.0, 5, DataType.DOUBLE);
        model.getLayer(GptModel.HEAD).getParam("b").assign(
                Nd4j.linspace(-1, 1, 7, DataType.DOUBLE).reshape(1, 7)); // a bias that matters
        byte[] zip = zip(model);
        byte[] earlier = withoutHeadHasBias(zip);
        assertFalse(headLayer(JSON.readTree(entry(earlier, "configuration.json"))).has("hasBias"), "the field is gone");

        ComputationGraph back = GenerationCheckpoint.restore(earlier);
        assertEquals(BIASED, GptModel.shapeOf(back), "untied with a bias");
        assertNotNull(GptModel.headWeights(back)[1]);
        assertArrayEquals(model.params().toDoubleVector(), back.params().toDoubleVector(), 0.0, "same parameters");
        int[][] rows = randomRows(3, BIASED.contextLength(), BIASED.vocabSize(), 11);
        assertArrayEquals(GptModel.probabilities(model, rows).reshape(-1).toDoubleVector(),
                GptModel.probabilities(back, rows).reshape(-1).toDoubleVector(), 0.0, "same probabilities");
        assertProbabilitiesAgree(back);

        model.fit(GptModel.dataSet(rows, DataType.DOUBLE));
        back.fit(GptModel.dataSet(rows, DataType.DOUBLE));
        assertArrayEquals(model.params().toDoubleVector(), back.params().toDoubleVector(), 0.0, "same training step");
    }

    private static void assertProbabilitiesAgree(ComputationGraph model) {
        GptConfig shape = GptModel.shapeOf(model);
        int[][] rows = randomRows(2, shape.contextLength(), shape.vocabSize(), 13);
        INDArray p = GptModel.probabilities(model, rows);                                  // [B, V, T]
        double[][] logits = GptModel.nextTokenLogits(model, rows, new int[]{3, 3});
        KvCache cache = new GptInference(model).newCache(2);
        double[][] fromCache = new GptInference(model).forward(cache, new int[]{0, 1},
                new int[][]{Arrays.copyOf(rows[0], 4), Arrays.copyOf(rows[1], 4)}, new int[]{0, 0});
        for (int i = 0; i < 2; i++) {
            double[] softmax = softmax(logits[i]);
            double[] cachedSoftmax = softmax(fromCache[i]);
            for (int v = 0; v < shape.vocabSize(); v++) {
                assertEquals(p.getDouble(i, v, 3), softmax[v], 1e-12);
                assertEquals(p.getDouble(i, v, 3), cachedSoftmax[v], 1e-5); // the cached path computes in float
            }
        }
    }

    private static byte[] zip(ComputationGraph model) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(model, bytes, true);
        return bytes.toByteArray();
    }

    /** The model.zip with its head layer's hasBias field removed from configuration.json (every other entry as is). */
    private static byte[] withoutHeadHasBias(byte[] zip) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip)); ZipOutputStream z = new ZipOutputStream(out)) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                byte[] content = in.readAllBytes();
                if (e.getName().equals("configuration.json")) {
                    JsonNode conf = JSON.readTree(content);
                    ObjectNode head = headLayer(conf);
                    assertTrue(head.path("hasBias").asBoolean(false), "a biased head records hasBias = true: " + head);
                    head.remove("hasBias");
                    content = JSON.writeValueAsBytes(conf);
                }
                z.putNextEntry(new ZipEntry(e.getName()));
                z.write(content);
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static ObjectNode headLayer(JsonNode conf) {
        return (ObjectNode) conf.path("vertices").path(GptModel.HEAD).path("layerConf").path("layer");
    }

    private static byte[] entry(byte[] zip, String name) throws IOException {
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().equals(name)) {
                    return in.readAllBytes();
                }
            }
        }
        throw new IllegalStateException("no " + name);
    }

    private static double[] softmax(double[] z) {
        double max = Arrays.stream(z).max().orElseThrow();
        double[] e = Arrays.stream(z).map(x -> Math.exp(x - max)).toArray();
        double sum = Arrays.stream(e).sum();
        return Arrays.stream(e).map(x -> x / sum).toArray();
    }
}
