package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import dev.kiln.tokenize.Tokenize;
import dev.kiln.tokenize.TokenizeConfig;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.checkpoint.ModelCheckpoints;
import org.apache.commons.io.FileUtils;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import scala.collection.JavaConverters;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spam/ham classification on real SpamAssassin mail, through Kiln's own stages: a subset of the corpus is
 * preprocessed (every duplicate kept and pointing at its cluster), tokenized (a 1,024-token BPE trained on it),
 * a tiny GPT is pre-trained on its text (no labels), and fine-tuned on the labels.
 */
class FinetuningTest {
    @TempDir
    static java.nio.file.Path tmp;
    static SparkSession spark;
    static FileSystem fs;
    static java.nio.file.Path documents;
    static java.nio.file.Path pretrained;

    /** Every {@code every}-th mail (by name) of each SpamAssassin folder. */
    static java.nio.file.Path mailSubset(java.nio.file.Path dir, int every) throws IOException {
        java.nio.file.Path corpus = SampleCorpora.spamAssassin();
        try (Stream<java.nio.file.Path> folders = Files.list(corpus)) {
            for (java.nio.file.Path folder : folders.filter(Files::isDirectory).sorted().toList()) {
                List<java.nio.file.Path> mails;
                try (Stream<java.nio.file.Path> s = Files.list(folder)) {
                    mails = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
                }
                java.nio.file.Path target = Files.createDirectories(dir.resolve(folder.getFileName().toString()));
                for (int i = 0; i < mails.size(); i += every) {
                    Files.copy(mails.get(i), target.resolve(mails.get(i).getFileName()));
                }
            }
        }
        return dir;
    }

    @BeforeAll
    static void pipeline() throws Exception {
        spark = LocalSpark.get();
        fs = FileSystem.getLocal(new Configuration());
        java.nio.file.Path mail = mailSubset(tmp.resolve("mail"), 4);
        documents = tmp.resolve("preprocessed");
        // keep = all: near and exact duplicates stay, with the cluster_id of their representative.
        PreprocessPipeline.run(spark, PreprocessRuns.config("input.paths", mail + "/*/*.txt", "input.format", "mail",
                "filter.min-words", "20", "dedup.keep", "all", "output.path", documents.toString()), TestLineage.preprocess(spark));

        java.nio.file.Path shards = tmp.resolve("shards");
        Map<String, String> t = new HashMap<>();
        t.put("kiln.tokenize.input", documents.toUri().toString());
        t.put("kiln.tokenize.output", shards.toUri().toString());
        t.put("kiln.tokenize.context-length", "64");
        t.put("kiln.tokenize.validation-fraction", "0.05");
        t.put("kiln.tokenize.shards", "2");
        t.put("kiln.tokenize.tokenizer.vocab-size", "1024");
        Tokenize.run(spark, TokenizeConfig.from(KilnConfig.load(null, t)), Lineage.of("tokenize", KilnConfig.load(null, t), TokenizeConfig.SECTION, spark.version()));

        pretrained = tmp.resolve("pretrain");
        Map<String, String> p = new LinkedHashMap<>();
        p.put("kiln.train.shards", shards.toUri().toString());
        p.put("kiln.train.output", pretrained.toString());
        p.put("kiln.train.model.layers", "2");
        p.put("kiln.train.model.d-model", "64");
        p.put("kiln.train.model.heads", "4");
        p.put("kiln.train.batch-size", "16");
        p.put("kiln.train.steps", "60");
        p.put("kiln.train.optimizer.learning-rate", "3e-3");
        p.put("kiln.train.optimizer.min-learning-rate", "3e-4");
        p.put("kiln.train.optimizer.warmup-steps", "10");
        p.put("kiln.train.log-every", "20");
        p.put("kiln.train.validation.every", "0");
        p.put("kiln.train.validation.batches", "2");
        p.put("kiln.train.checkpoint.every", "0");
        Config pc = KilnConfig.load(null, p);
        Pretraining.run(null, TrainConfig.from(pc), Lineage.of("pretrain", pc, TrainConfig.SECTION, null), false);
    }

    static Config finetuneConfig(java.nio.file.Path output, Map<String, String> overrides) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.finetune.checkpoint", pretrained.toString());
        o.put("kiln.finetune.documents", documents.toString());
        o.put("kiln.finetune.output", output.toString());
        o.put("kiln.finetune.epochs", "4");
        o.put("kiln.finetune.batch-size", "16");
        o.put("kiln.finetune.optimizer.learning-rate", "1e-3");
        o.put("kiln.finetune.optimizer.warmup-steps", "10");
        o.put("kiln.finetune.split.validation-fraction", "0.15");
        o.put("kiln.finetune.split.test-fraction", "0.2");
        o.put("kiln.finetune.log-every", "20");
        overrides.forEach((k, v) -> o.put("kiln.finetune." + k, v));
        return KilnConfig.load(null, o);
    }

    static Finetuning.Result finetune(java.nio.file.Path output, Map<String, String> overrides, boolean resume)
            throws IOException {
        Config c = finetuneConfig(output, overrides);
        return Finetuning.run(spark, FinetuneConfig.from(c), Lineage.of("finetune", c, FinetuneConfig.SECTION, null), resume);
    }

    @Test
    void spamHamFineTuneBeatsTheMajorityClassOnALeakFreeTestSplit() throws IOException {
        java.nio.file.Path out = tmp.resolve("spam-ham");
        Finetuning.Result r = finetune(out, Map.of(), false);
        LabelledDocuments.Data data = r.data();
        assertEquals(List.of("ham", "spam"), r.labels());

        // No near-duplicate cluster spans two splits, and there are clusters of several documents to make it count.
        Map<String, Set<String>> splitsByCluster = new HashMap<>();
        Map<String, Integer> sizes = new HashMap<>();
        for (String split : List.of(LabelledDocuments.TRAIN, LabelledDocuments.VALIDATION, LabelledDocuments.TEST)) {
            for (LabelledDocuments.Example e : data.split(split)) {
                splitsByCluster.computeIfAbsent(e.splitKey(), k -> new TreeSet<>()).add(split);
                sizes.merge(e.splitKey(), 1, Integer::sum);
            }
        }
        List<String> spanning = splitsByCluster.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .map(Map.Entry::getKey).toList();
        assertTrue(spanning.isEmpty(), "clusters in more than one split: " + spanning);
        long multi = sizes.values().stream().filter(n -> n > 1).count();
        assertTrue(multi >= 10, "the subset has near-duplicate clusters (" + multi + ")");
        List<Row> clusters = spark.read().parquet(documents.resolve("documents").toString())
                .filter("cluster_id != id").select("cluster_id").distinct().collectAsList();
        assertTrue(clusters.size() >= 10, "preprocessing wrote duplicates with their cluster: " + clusters.size());

        ClassifierMetrics test = r.test();
        ClassifierMetrics majority = r.majority();
        System.out.printf(Locale.ROOT, "spam/ham test: %d documents, accuracy %.4f, macro F1 %.4f (spam F1 %.4f); "
                        + "majority class: accuracy %.4f, macro F1 %.4f; best epoch %d of %d, %d steps%n",
                test.n(), test.accuracy(), test.macro().f1(), test.perClass().get("spam").f1(), majority.accuracy(), majority.macro().f1(),
                r.bestEpoch() + 1, r.epochsRun(), r.steps());
        assertTrue(test.n() >= 150, "a test split of real size: " + test.n());
        assertTrue(test.macro().f1() > majority.macro().f1() + 0.3,
                "macro F1 " + test.macro().f1() + " beats the majority class's " + majority.macro().f1() + " by a wide margin");
        assertTrue(test.accuracy() > majority.accuracy() + 0.1,
                "accuracy " + test.accuracy() + " beats the majority class's " + majority.accuracy());

        // predictions/: one line per test document, with the probabilities the best checkpoint gives after a reload.
        List<String> lines = Files.readAllLines(out.resolve("predictions/part-00000.jsonl"));
        assertEquals(data.test().size(), lines.size());
        ClassifierCheckpoint best = ClassifierCheckpoint.load(fs, new Path(out.toUri()), Finetuning.CHECKPOINT_KEY);
        assertEquals(List.of("ham", "spam"), best.labels());
        assertTrue(best.stage().path("parent").path("path").asText().endsWith("pretrain/checkpoints/step-00000060"),
                best.stage().toString());
        assertEquals(64, best.stage().path("parent").path("model_sha256").asText().length());
        INDArray p = best.probabilities(data.test().subList(0, 20).stream().map(LabelledDocuments.Example::ids).toList());
        ObjectMapper om = new ObjectMapper();
        for (int i = 0; i < 20; i++) {
            JsonNode line = om.readTree(lines.get(i));
            assertEquals(data.test().get(i).id(), line.get("id").asText());
            assertEquals(data.test().get(i).label(), line.get("label").asText());
            assertEquals(line.at("/probabilities/spam").asDouble(), p.getDouble(i, 1), 1e-6, "same probabilities after reload");
        }
        assertTrue(Files.exists(out.resolve("predictions/_SUCCESS")));
        List<JsonNode> validation = Files.readAllLines(out.resolve("metrics.jsonl")).stream().map(l -> {
            try {
                return om.readTree(l);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).filter(n -> n.path("kind").asText().equals("validation")).toList();
        assertEquals(r.epochsRun(), validation.size(), "validation after every epoch");
        assertTrue(validation.get(0).has("macro_f1") && validation.get(0).has("accuracy"));
    }

    @Test
    void windowsReadMoreOfEachDocumentAndScoreItByTheMeanOfItsWindows() throws IOException {
        java.nio.file.Path out = tmp.resolve("windows");
        Finetuning.Result r = finetune(out, Map.of("windows", "3", "truncation", "head-tail", "epochs", "2"), false);
        LabelledDocuments.Data data = r.data();
        // The kept tokens: up to 3 x 64 per document, and some documents need all three windows.
        int t = 64;
        assertTrue(data.train().stream().allMatch(e -> e.ids().length <= 3 * t));
        long threeWindows = data.train().stream().filter(e -> LabelledDocuments.windows(e.ids(), t).size() == 3).count();
        assertTrue(threeWindows >= 50, "long mails fill all three windows: " + threeWindows);
        int rows = Finetuning.rows(data, data.train(), t).size();
        assertTrue(rows > 2 * data.train().size(), rows + " training rows for " + data.train().size() + " documents");
        ClassifierMetrics test = r.test();
        System.out.printf(Locale.ROOT, "spam/ham test with 3 windows: accuracy %.4f, macro F1 %.4f%n",
                test.accuracy(), test.macro().f1());
        assertTrue(test.macro().f1() > r.majority().macro().f1() + 0.3, "macro F1 " + test.macro().f1());

        // The reloaded checkpoint scores a raw (untruncated) document as the run scored it: same truncation, windows, mean.
        ClassifierCheckpoint best = ClassifierCheckpoint.load(fs, new Path(out.toUri()), Finetuning.CHECKPOINT_KEY);
        assertEquals(3, best.stage().path("windows").asInt());
        ObjectMapper om = new ObjectMapper();
        List<String> lines = Files.readAllLines(out.resolve("predictions/part-00000.jsonl"));
        List<int[]> kept = data.test().subList(0, 20).stream().map(LabelledDocuments.Example::ids).toList();
        INDArray p = best.probabilities(kept);
        for (int i = 0; i < 20; i++) {
            assertEquals(om.readTree(lines.get(i)).at("/probabilities/spam").asDouble(), p.getDouble(i, 1), 1e-6);
        }
        int[] longer = new int[5 * t];
        for (int i = 0; i < longer.length; i++) {
            longer[i] = i % 97;
        }
        assertArrayEquals(best.probabilities(List.of(LabelledDocuments.truncate(longer, 3 * t,
                FinetuneConfig.Truncation.HEAD_TAIL))).toDoubleVector(), best.probabilities(List.of(longer)).toDoubleVector(),
                1e-9, "a longer document is truncated as in training");
    }

    private static List<JsonNode> records(java.nio.file.Path out, String kind) throws IOException {
        ObjectMapper om = new ObjectMapper();
        List<JsonNode> all = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            all.add(om.readTree(l));
        }
        return all.stream().filter(n -> n.path("kind").asText().equals(kind)).toList();
    }

    private static void copy(java.nio.file.Path from, java.nio.file.Path to) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.walk(from)) {
            for (java.nio.file.Path p : s.toList()) {
                java.nio.file.Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** A run interrupted after its first epoch and resumed ends with the same validation results as a straight one. */
    @Test
    void resumeAfterAnEpochGivesTheSameResults() throws IOException {
        Map<String, String> o = Map.of("epochs", "2", "early-stopping.patience", "0", "keep-checkpoints", "3");
        java.nio.file.Path straight = tmp.resolve("straight");
        Finetuning.Result a = finetune(straight, o, false);

        java.nio.file.Path resumed = tmp.resolve("resumed");
        copy(straight, resumed);
        String last = org.apache.hadoop.fs.Path.SEPARATOR + CheckpointStore.name(a.steps());
        FileUtils.deleteDirectory(new File(resumed + "/checkpoints" + last));
        FileUtils.deleteDirectory(new File(resumed + "/best" + last));
        FileUtils.deleteDirectory(resumed.resolve("predictions").toFile());
        if (!Files.exists(resumed.resolve("best")) || Files.list(resumed.resolve("best")).findAny().isEmpty()) {
            // The first epoch's checkpoint was the best one until the second replaced it.
            copy(resumed.resolve("checkpoints/" + CheckpointStore.name(a.steps() / 2)),
                    resumed.resolve("best/" + CheckpointStore.name(a.steps() / 2)));
        }
        Finetuning.Result b = finetune(resumed, o, true);

        List<JsonNode> va = records(straight, "validation");
        List<JsonNode> vb = records(resumed, "validation");
        assertEquals(2, va.size());
        assertEquals(2, vb.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(va.get(i).path("accuracy").asDouble(), vb.get(i).path("accuracy").asDouble(), 1e-9);
            assertEquals(va.get(i).path("loss").asDouble(), vb.get(i).path("loss").asDouble(), 1e-5);
        }
        assertEquals(a.test().accuracy(), b.test().accuracy(), 1e-9);
        assertEquals(a.steps(), b.steps());
    }

    /** Frozen embeddings and first block stay exactly as pre-trained; the rest moves. */
    @Test
    void frozenLayersKeepTheirPretrainedWeights() throws IOException {
        java.nio.file.Path out = tmp.resolve("frozen");
        finetune(out, Map.of("epochs", "1", "freeze.embeddings", "true", "freeze.blocks", "1"), false);
        ClassifierCheckpoint c = ClassifierCheckpoint.load(fs, new Path(out.toUri()), Finetuning.CHECKPOINT_KEY);
        ComputationGraph parent;
        try (Stream<java.nio.file.Path> s = Files.list(pretrained.resolve("checkpoints"))) {
            java.nio.file.Path step = s.sorted().reduce((x, y) -> y).orElseThrow();
            parent = ModelSerializer.restoreComputationGraph(step.resolve("model.zip").toFile(), false);
        }
        for (String frozen : List.of("wte", "wpe", "block0")) {
            assertEquals(parent.getLayer(frozen).params(), c.model().getLayer(frozen).params(), frozen + " is unchanged");
        }
        for (String trained : List.of("block1", "lnf")) {
            assertTrue(!parent.getLayer(trained).params().equals(c.model().getLayer(trained).params()), trained + " trained");
        }
    }

    /**
     * Two Spark workers of 8 documents (averaging every 5 steps) against one worker of 16: the same global minibatches,
     * so validation and test results agree within a few points (not exactly: Adam steps are averaged, not gradients).
     */
    @Test
    void twoWorkersMatchOneWithinTolerance() throws IOException {
        Finetuning.Result one = finetune(tmp.resolve("one-worker"), Map.of("epochs", "2"), false);
        Finetuning.Result two = finetune(tmp.resolve("two-workers"), Map.of("epochs", "2", "batch-size", "8",
                "parallel.workers", "2", "parallel.average-every", "5"), false);
        System.out.printf(Locale.ROOT, "one worker: test accuracy %.4f macro F1 %.4f; two workers: %.4f / %.4f%n",
                one.test().accuracy(), one.test().macro().f1(), two.test().accuracy(), two.test().macro().f1());
        assertEquals(one.steps(), two.steps(), "the same steps of the same global batch");
        assertEquals(one.test().accuracy(), two.test().accuracy(), 0.06, "test accuracy");
        assertEquals(one.test().macro().f1(), two.test().macro().f1(), 0.08, "test macro F1");
    }

    /** A Hugging Face GPT-2 folder (the transformers-made fixture) is a parent: its lineage names it and its weights. */
    @Test
    void aHuggingFaceFolderIsAParentAndItsLineageNamesTheFolderAndWeights() throws Exception {
        java.nio.file.Path hf = java.nio.file.Path.of(getClass().getResource("/hf/tiny-gpt2/config.json").toURI()).getParent();
        java.nio.file.Path out = tmp.resolve("from-hf");
        Finetuning.Result r = finetune(out, Map.of("checkpoint", hf.toString(), "epochs", "1"), false);
        assertEquals(List.of("ham", "spam"), r.labels());
        ClassifierCheckpoint best = ClassifierCheckpoint.load(fs, new Path(out.toUri()), Finetuning.CHECKPOINT_KEY);
        JsonNode parent = best.stage().path("parent");
        assertTrue(parent.path("path").asText().endsWith("hf/tiny-gpt2"), parent.toString());
        assertEquals("huggingface", parent.path("format").asText());
        assertEquals(FileHashes.sha256(fs, new Path(hf.resolve("model.safetensors").toUri())),
                parent.path("model_sha256").asText());
        assertEquals(0, r.steps() == 0 ? 1 : 0, "it trained");
        // The output opens as a classifier (its best/), which is no parent for another fine-tune.
        ModelCheckpoint opened = ModelCheckpoints.open(fs, new Path(out.toUri()), "k");
        assertEquals(ModelCheckpoint.Kind.CLASSIFIER, opened.kind());
        assertEquals(best.folder().toString(), opened.folder());
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> finetune(tmp.resolve("from-classifier"), Map.of("checkpoint", out.toString()), false));
        assertTrue(e.getMessage().contains("kiln.finetune.checkpoint") && e.getMessage().contains("is a classifier checkpoint"),
                e.getMessage());
    }

    @Test
    void aCheckpointThatIsNotAKilnCheckpointIsRefusedNamingItsPath() throws IOException {
        java.nio.file.Path fake = Files.createDirectories(tmp.resolve("not-a-checkpoint"));
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> finetune(tmp.resolve("bad-1"), Map.of("checkpoint", fake.toString()), false));
        assertTrue(e.getMessage().contains("kiln.finetune.checkpoint") && e.getMessage().contains(fake.toString())
                && e.getMessage().contains("not a Kiln checkpoint"), e.getMessage());
    }

    /** Writes a documents table of (id, label) pairs; a null label leaves the metadata without one. */
    private static java.nio.file.Path table(String name, List<String[]> docs) {
        StructType schema = new StructType().add("id", DataTypes.StringType).add("source", DataTypes.StringType)
                .add("text", DataTypes.StringType)
                .add("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType))
                .add("hash", DataTypes.StringType).add("cluster_id", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        for (String[] d : docs) {
            Map<String, String> meta = d[1] == null ? Map.of() : Map.of("label", d[1]);
            rows.add(RowFactory.create(d[0], "test", "Dear friend, this is mail number " + d[0] + " about the offer.",
                    JavaConverters.mapAsScalaMap(meta).toMap(scala.Predef.$conforms()), "h" + d[0], d[0]));
        }
        java.nio.file.Path dir = tmp.resolve(name);
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(dir.resolve("documents").toString());
        return dir;
    }

    @Test
    void aDocumentWithoutALabelIsRefusedNamingIt() {
        List<String[]> docs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            docs.add(new String[]{"doc" + i, i == 7 ? null : (i % 2 == 0 ? "ham" : "spam")});
        }
        java.nio.file.Path dir = table("no-label", docs);
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> finetune(tmp.resolve("bad-2"), Map.of("documents", dir.toString()), false));
        assertTrue(e.getMessage().contains("doc7") && e.getMessage().contains("no label")
                && e.getMessage().contains("kiln.finetune.label.metadata-key"), e.getMessage());
    }

    @Test
    void aTestLabelThatNoTrainingDocumentHasIsRefusedNamingTheDocument() {
        List<String[]> docs = new ArrayList<>();
        String odd = null;
        for (int i = 0; i < 60; i++) {
            String id = "doc" + i;
            String split = LabelledDocuments.splitOf(id, 0.15, 0.2);
            String label = i % 2 == 0 ? "ham" : "spam";
            if (odd == null && split.equals(LabelledDocuments.TEST)) {
                odd = id;
                label = "phishing";
            }
            docs.add(new String[]{id, label});
        }
        java.nio.file.Path dir = table("odd-label", docs);
        String oddId = odd;
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> finetune(tmp.resolve("bad-3"), Map.of("documents", dir.toString()), false));
        assertTrue(e.getMessage().contains(oddId) && e.getMessage().contains("phishing")
                && e.getMessage().contains("test"), e.getMessage());
    }

    @Test
    void configErrorsNameTheKey() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> FinetuneConfig.from(finetuneConfig(tmp.resolve("x"), Map.of("pooling", "max"))));
        assertTrue(e.getMessage().contains("kiln.finetune.pooling"), e.getMessage());
        e = assertThrows(InvalidConfigException.class,
                () -> FinetuneConfig.from(finetuneConfig(tmp.resolve("x"), Map.of("label.column", "tag"))));
        assertTrue(e.getMessage().contains("kiln.finetune.label"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> FinetuneConfig.from(KilnConfig.load(null, Map.of())));
        assertTrue(e.getMessage().contains("kiln.finetune.checkpoint"), e.getMessage());
    }
}
