package dev.kiln.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.ClassifierHead;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.checkpoint.HfImport;
import dev.kiln.train.checkpoint.SafeTensors;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln against the fixtures bench/pytorch/make_hf_fixture.py wrote with transformers (tiny random GPT-2s saved with
 * save_pretrained, their logits on fixed ids): import reproduces the logits; export, read back, is identical; the
 * exported files have the fixture's names, shapes, dtypes and config keys; what GPT-2 cannot hold is refused.
 */
class HuggingFaceRoundTripTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final FileSystem FS = local();
    /** Stated tolerance of Kiln's float32 logits against transformers' float32 logits. */
    static final double LOGIT_TOLERANCE = 1e-4;

    @TempDir
    java.nio.file.Path tmp;

    static FileSystem local() {
        try {
            return FileSystem.getLocal(new Configuration());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path fixture(String name) {
        return new Path(HuggingFaceRoundTripTest.class.getResource("/hf/" + name + "/config.json").getPath()).getParent();
    }

    static JsonNode json(Path file) throws IOException {
        try (InputStream in = FS.open(file)) {
            return JSON.readTree(in);
        }
    }

    /** The imported model's logits at every position of the fixture's ids, {@code [n][V]}. */
    static double[][] logits(ComputationGraph model, int[] ids) {
        int t = GptModel.shapeOf(model).contextLength();
        int[][] rows = new int[ids.length][t + 1];
        int[] positions = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(ids, 0, rows[i], 0, ids.length); // the rest is padding, after every read position
            positions[i] = i;
        }
        return GptModel.nextTokenLogits(model, rows, positions);
    }

    static ComputationGraph imported(HfImport.HfModel m) {
        ComputationGraph model = GptModel.build(m.shape(), new NoOp(), 0, 1, DataType.FLOAT);
        HfImport.assign(m, model);
        return model;
    }

    @Test
    void importReproducesTransformersLogitsTiedAndUntied() throws IOException {
        for (String name : new String[]{"tiny-gpt2", "tiny-gpt2-untied"}) {
            Path folder = fixture(name);
            HfImport.HfModel m = HfImport.read(FS, folder, "kiln.train.init-from");
            assertEquals(name.equals("tiny-gpt2"), m.shape().tiedEmbeddings(), name);
            assertFalse(m.shape().headBias(), name + ": GPT-2's lm_head has no bias, tied or not");
            JsonNode expected = json(new Path(folder, "expected.json"));
            int[] ids = JSON.convertValue(expected.get("ids"), int[].class);
            assertArrayEquals(ids, m.tokenizer().encode(expected.get("text").asText()),
                    "Kiln's BPE encodes like the GPT-2 tokenizer transformers saved");
            ComputationGraph model = imported(m);
            assertNull(GptModel.headWeights(model)[1], name + ": no head bias in the Kiln model either");
            double[][] got = logits(model, ids);
            double worst = 0;
            for (int i = 0; i < ids.length; i++) {
                for (int v = 0; v < got[i].length; v++) {
                    worst = Math.max(worst, Math.abs(got[i][v] - expected.get("logits").get(i).get(v).asDouble()));
                }
            }
            assertTrue(worst < LOGIT_TOLERANCE, name + ": largest logit difference " + worst);
            assertEquals(FileHashes.sha256(FS, new Path(folder, "model.safetensors")), m.weightsSha256());
        }
    }

    /** Tied and untied without a head bias: the two heads GPT-2 holds. */
    @Test
    void exportReadBackByKilnIsIdenticalAndHasTransformersLayout() throws IOException {
        exportReadBack("tiny-gpt2");
        exportReadBack("tiny-gpt2-untied");
    }

    private void exportReadBack(String fixture) throws IOException {
        Path tiny = fixture(fixture);
        HfImport.HfModel reference = HfImport.read(FS, tiny, "k");
        ComputationGraph model = GptModel.build(reference.shape(), new NoOp(), 0, 42, DataType.FLOAT); // Kiln's own weights
        Path out = new Path(tmp.resolve("export-" + fixture).toString());
        HfExport.write(FS, out, model, reference.tokenizerJson(), "<|endoftext|>", 0, JSON.createObjectNode().put("step", 7));

        HfImport.HfModel back = HfImport.read(FS, out, "k");
        assertEquals(reference.shape(), back.shape(), fixture);
        ComputationGraph again = imported(back);
        assertArrayEquals(model.params().toFloatVector(), again.params().toFloatVector(), 0f, "identical weights");
        int[] ids = {5, 17, 200, 3, 299, 0, 42};
        double[][] a = logits(model, ids), b = logits(again, ids);
        for (int i = 0; i < ids.length; i++) {
            assertArrayEquals(a[i], b[i], 0.0, "identical logits at position " + i);
        }

        // The names, shapes and dtypes transformers' save_pretrained wrote for the same shape.
        Map<String, SafeTensors.Entry> ours = entries(new Path(out, "model.safetensors"));
        Map<String, SafeTensors.Entry> theirs = entries(new Path(tiny, "model.safetensors"));
        assertEquals(new TreeSet<>(theirs.keySet()), new TreeSet<>(ours.keySet()));
        theirs.forEach((n, e) -> {
            assertArrayEquals(e.shape(), ours.get(n).shape(), n);
            assertEquals(e.dtype(), ours.get(n).dtype(), n);
        });
        JsonNode ourConfig = json(new Path(out, "config.json")), theirConfig = json(new Path(tiny, "config.json"));
        for (String k : new String[]{"model_type", "architectures", "vocab_size", "n_positions", "n_embd", "n_layer",
                "n_head", "activation_function", "layer_norm_epsilon", "tie_word_embeddings", "bos_token_id", "eos_token_id",
                "scale_attn_weights", "resid_pdrop", "embd_pdrop", "attn_pdrop"}) {
            assertEquals(theirConfig.get(k), ourConfig.get(k), "config.json key " + k);
        }
        assertEquals(7, ourConfig.path("kiln").path("step").asInt(), "lineage under the kiln key");
        for (String f : new String[]{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"}) {
            assertTrue(FS.exists(new Path(out, f)), f);
        }
        assertEquals(0, Arrays.stream(FS.listStatus(out.getParent())).filter(f -> !f.getPath().getName().startsWith("export-"))
                .count(), "no staging folder is left beside the export");
    }

    /**
     * transformers itself loads the export with no code (bench/pytorch/hf_logits.py, AutoModelForCausalLM and
     * AutoTokenizer) and agrees with Kiln on real text: same ids, logits within 1e-4. Runs where the benchmark's
     * Python environment exists (bench/pytorch/venv.sh; KILN_BENCH_PYTHON names another Python).
     */
    @Test
    void transformersLoadsTheExportAndAgreesOnRealText() throws Exception {
        String python = System.getenv().getOrDefault("KILN_BENCH_PYTHON",
                System.getProperty("user.home") + "/.cache/kiln/bench-venv/bin/python");
        Assumptions.assumeTrue(Files.isExecutable(java.nio.file.Path.of(python)),
                "no Python with transformers at " + python + " (bench/pytorch/venv.sh makes one)");
        agreesWithTransformers(python, true);
        agreesWithTransformers(python, false); // untied, no bias: lm_head.weight and tie_word_embeddings = false
    }

    private void agreesWithTransformers(String python, boolean tied) throws Exception {
        HfImport.HfModel reference = HfImport.read(FS, fixture("tiny-gpt2"), "k");
        GptConfig shape = new GptConfig(reference.shape().vocabSize(), 64, 32, 2, 4, 4, tied, false);
        ComputationGraph model = GptModel.build(shape, new NoOp(), 0, 42, DataType.FLOAT);
        model.params().muli(5); // weights far from zero: logits of several units, so 1e-4 is a sharp test
        Path out = new Path(tmp.resolve(tied ? "export-tied" : "export-untied").toString());
        HfExport.write(FS, out, model, reference.tokenizerJson(), "<|endoftext|>", 0, JSON.createObjectNode());

        String text = "The lazy fox jumps over the quick models.";
        java.nio.file.Path result = tmp.resolve(tied ? "hf-tied.json" : "hf-untied.json");
        java.nio.file.Path script = java.nio.file.Path.of(System.getProperty("user.dir")).getParent()
                .resolve("bench/pytorch/hf_logits.py");
        Process p = new ProcessBuilder(python, script.toString(), out.toUri().getPath(), text, result.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), log);
        JsonNode hf = JSON.readTree(result.toFile());
        assertEquals("GPT2LMHeadModel", hf.get("class").asText());
        int[] ids = reference.tokenizer().encode(text);
        assertArrayEquals(ids, JSON.convertValue(hf.get("ids"), int[].class), "transformers' tokenizer gives Kiln's ids");
        double[][] ours = logits(model, ids);
        double worst = 0, largest = 0;
        for (int i = 0; i < ids.length; i++) {
            for (int v = 0; v < ours[i].length; v++) {
                worst = Math.max(worst, Math.abs(ours[i][v] - hf.get("logits").get(i).get(v).asDouble()));
                largest = Math.max(largest, Math.abs(ours[i][v]));
            }
        }
        assertTrue(largest > 1, "logits large enough to compare: " + largest);
        assertTrue(worst < LOGIT_TOLERANCE, (tied ? "tied" : "untied") + ": largest logit difference with transformers "
                + worst + " (largest logit " + largest + ")");
    }

    private static Map<String, SafeTensors.Entry> entries(Path file) throws IOException {
        try (SafeTensors.Reader r = new SafeTensors.Reader(FS.open(file), file.toString())) {
            return r.entries();
        }
    }

    /**
     * Through the stage's entry point: a checkpoint folder in, lineage out; an untied checkpoint without a head bias
     * exports with its lm_head; one with a bias is refused with the reason.
     */
    @Test
    void exportsTiedAndBiasFreeCheckpointsAndRefusesAHeadBias() throws IOException {
        Path tokenizer = new Path(fixture("tiny-gpt2"), "tokenizer.json");
        String tokSha = FileHashes.sha256(FS, tokenizer);
        GptConfig shape = new GptConfig(300, 8, 16, 1, 2, 4, true);
        Path tied = checkpoint("tied", GptModel.build(shape, new NoOp(), 0, 3, DataType.FLOAT), tokSha);
        Path untied = checkpoint("untied", GptModel.build(shape.withTiedEmbeddings(false), new NoOp(), 0, 3, DataType.FLOAT), tokSha);
        Path biasFree = checkpoint("bias-free", GptModel.build(shape.withHead(false, false), new NoOp(), 0, 3, DataType.FLOAT),
                tokSha);

        String out = tmp.resolve("hf").toString();
        String plan = HfExport.plan(new ExportConfig(tied.toString(), tokenizer.toString(), "<|endoftext|>", out), new Configuration());
        assertTrue(plan.contains("would export") && !Files.exists(tmp.resolve("hf")), plan);
        HfExport.Result r = HfExport.run(new ExportConfig(tied.toString(), tokenizer.toString(), "<|endoftext|>", out),
                new Configuration());
        assertEquals(12, r.step());
        JsonNode kiln = json(new Path(out, "config.json")).get("kiln");
        assertEquals(tokSha, kiln.get("tokenizer_sha256").asText());
        assertTrue(kiln.get("checkpoint").asText().endsWith("step-00000012"), kiln.toString());
        assertNotNull(kiln.get("kiln_version"));
        assertTrue(json(new Path(out, "config.json")).get("tie_word_embeddings").asBoolean());

        String untiedOut = tmp.resolve("hf-untied").toString();
        HfExport.run(new ExportConfig(biasFree.toString(), tokenizer.toString(), "<|endoftext|>", untiedOut), new Configuration());
        assertFalse(json(new Path(untiedOut, "config.json")).get("tie_word_embeddings").asBoolean());
        assertArrayEquals(new long[]{300, 16}, entries(new Path(untiedOut, "model.safetensors")).get("lm_head.weight").shape(),
                "lm_head.weight is [V, C], nn.Linear's [out, in]");

        InvalidConfigException refused = assertThrows(InvalidConfigException.class, () -> HfExport.run(
                new ExportConfig(untied.toString(), tokenizer.toString(), "<|endoftext|>", tmp.resolve("no").toString()),
                new Configuration()));
        assertEquals("kiln.export.checkpoint", refused.key());
        assertTrue(refused.getMessage().contains("has no bias") && refused.getMessage().contains("head-bias = false"),
                refused.getMessage());
        assertTrue(!Files.exists(tmp.resolve("no")), "nothing written");

        ComputationGraph meanPooled = ClassifierModel.fromParent(GptModel.build(shape, new NoOp(), 0, 3,
                DataType.FLOAT), 2, ClassifierHead.Pooling.MEAN, null, new NoOp(), 0, 1, List.of());
        Path mean = checkpoint("mean", meanPooled, tokSha);
        InvalidConfigException refusedMean = assertThrows(InvalidConfigException.class, () -> HfExport.run(
                new ExportConfig(mean.toString(), tokenizer.toString(), "<|endoftext|>", tmp.resolve("no").toString()),
                new Configuration()));
        assertTrue(refusedMean.getMessage().contains("pooling = mean"), refusedMean.getMessage());
    }

    private Path checkpoint(String name, ComputationGraph model, String tokSha) throws IOException {
        CheckpointStore store = new CheckpointStore(FS, new Path(tmp.resolve(name).toString(), "checkpoints"), 2);
        return store.save(new Checkpoint(12, model, DataPosition.START, null, "{}", tokSha, 1,
                "{\"task\": \"classify\", \"labels\": [\"ham\", \"spam\"]}"));
    }

    /**
     * A last-token classifier exports as GPT2ForSequenceClassification with the fixture's names, shapes and label keys;
     * its head's bias moves into ln_f.bias. With the benchmarks' Python, transformers gives Kiln's logits to 1e-4.
     */
    @Test
    void aLastTokenClassifierExportsAsGpt2ForSequenceClassification() throws Exception {
        Path fixture = fixture("tiny-gpt2-classifier");
        Path tokenizer = new Path(fixture, "tokenizer.json");
        HfImport.HfModel parent = HfImport.read(FS, fixture("tiny-gpt2"), "k");
        ComputationGraph classifier = ClassifierModel.fromParent(imported(parent), 2,
                ClassifierHead.Pooling.LAST, null, new NoOp(), 0, 1, List.of());
        classifier.getLayer(ClassifierModel.HEAD).getParam("W").muli(20);
        classifier.getLayer(ClassifierModel.HEAD).getParam("b").assign(
                Nd4j.createFromArray(new float[]{0.7f, -1.3f}).reshape(1, 2));
        Path folder = checkpoint("classifier", classifier, FileHashes.sha256(FS, tokenizer));
        Path out = new Path(tmp.resolve("hf-classifier").toString());
        HfExport.run(new ExportConfig(folder.toString(), tokenizer.toString(), "<|endoftext|>", out.toString()), new Configuration());

        Map<String, SafeTensors.Entry> ours = entries(new Path(out, "model.safetensors"));
        Map<String, SafeTensors.Entry> theirs = entries(new Path(fixture, "model.safetensors"));
        assertEquals(new TreeSet<>(theirs.keySet()), new TreeSet<>(ours.keySet()));
        theirs.forEach((n, e) -> assertArrayEquals(e.shape(), ours.get(n).shape(), n));
        JsonNode ourConfig = json(new Path(out, "config.json")), theirConfig = json(new Path(fixture, "config.json"));
        for (String k : new String[]{"architectures", "id2label", "label2id", "pad_token_id", "n_embd", "vocab_size"}) {
            assertEquals(theirConfig.get(k), ourConfig.get(k), "config.json key " + k);
        }

        String python = System.getenv().getOrDefault("KILN_BENCH_PYTHON",
                System.getProperty("user.home") + "/.cache/kiln/bench-venv/bin/python");
        Assumptions.assumeTrue(Files.isExecutable(java.nio.file.Path.of(python)), "no " + python);
        String text = "The lazy fox trains.";
        java.nio.file.Path result = tmp.resolve("cls.json");
        Process p = new ProcessBuilder(python, java.nio.file.Path.of(System.getProperty("user.dir")).getParent()
                .resolve("bench/pytorch/hf_logits.py").toString(), out.toUri().getPath(), text, result.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), log);
        JsonNode hf = JSON.readTree(result.toFile());
        int[] ids = parent.tokenizer().encode(text);
        int t = GptModel.shapeOf(classifier).contextLength();
        int[][] rows = {Arrays.copyOf(ids, t + 1)};
        INDArray h = classifier.feedForward(GptModel.inputs(rows, DataType.FLOAT), false)
                .get(GptModel.FINAL_NORM).get(NDArrayIndex.point(0),
                        NDArrayIndex.all(), NDArrayIndex.point(ids.length - 1));
        double[] kiln = h.reshape(1, h.length()).mmul(classifier.getLayer(ClassifierModel.HEAD).getParam("W"))
                .addiRowVector(classifier.getLayer(ClassifierModel.HEAD).getParam("b")).toDoubleVector();
        for (int k = 0; k < 2; k++) {
            assertEquals(kiln[k], hf.get("logits").get(k).asDouble(), LOGIT_TOLERANCE, "logit " + k + " " + hf);
        }
        assertTrue(Math.abs(kiln[0] - kiln[1]) > 0.5, "the logits differ enough to compare: " + Arrays.toString(kiln));
    }

    @Test
    void shardedPickleOnlyAndMismatchedFoldersGetMessagesNamingTheFileAndKey() throws IOException {
        java.nio.file.Path sharded = Files.createDirectories(tmp.resolve("sharded"));
        Files.copy(Files.newInputStream(java.nio.file.Path.of(fixture("tiny-gpt2").toUri().getPath(), "config.json")), sharded.resolve("config.json"));
        Files.writeString(sharded.resolve("model.safetensors.index.json"), "{}");
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> HfImport.read(FS, new Path(sharded.toString()), "kiln.train.init-from"));
        assertTrue(e.getMessage().contains("sharded") && e.getMessage().contains("kiln.train.init-from"), e.getMessage());

        java.nio.file.Path pickle = Files.createDirectories(tmp.resolve("pickle"));
        Files.writeString(pickle.resolve("config.json"), "{}");
        Files.writeString(pickle.resolve("pytorch_model.bin"), "not read");
        e = assertThrows(InvalidConfigException.class, () -> HfImport.read(FS, new Path(pickle.toString()), "k"));
        assertTrue(e.getMessage().contains("pytorch_model.bin") && e.getMessage().contains("safe_serialization"), e.getMessage());

        // config.json that disagrees with the weights: the error names the tensor and both shapes.
        java.nio.file.Path wrong = Files.createDirectories(tmp.resolve("wrong"));
        for (String f : new String[]{"model.safetensors", "tokenizer.json"}) {
            Files.copy(java.nio.file.Path.of(fixture("tiny-gpt2").toUri().getPath(), f), wrong.resolve(f));
        }
        Files.writeString(wrong.resolve("config.json"), Files.readString(java.nio.file.Path.of(fixture("tiny-gpt2").toUri().getPath(),
                "config.json")).replace("\"n_embd\": 32", "\"n_embd\": 64"));
        e = assertThrows(InvalidConfigException.class, () -> HfImport.read(FS, new Path(wrong.toString()), "k"));
        assertTrue(e.getMessage().contains("wte.weight") && e.getMessage().contains("model.safetensors"), e.getMessage());
    }
}
