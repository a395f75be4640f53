package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.kiln.config.InvalidConfigException;
import dev.kiln.config.KilnConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.samples.SampleCorpora;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.tokenize.Tokenize;
import dev.kiln.tokenize.TokenizeConfig;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
                "filter.min-words", "20", "dedup.keep", "all", "output.path", documents.toString()), null);

        java.nio.file.Path shards = tmp.resolve("shards");
        Map<String, String> t = new HashMap<>();
        t.put("kiln.tokenize.input", documents.toUri().toString());
        t.put("kiln.tokenize.output", shards.toUri().toString());
        t.put("kiln.tokenize.context-length", "64");
        t.put("kiln.tokenize.validation-fraction", "0.05");
        t.put("kiln.tokenize.shards", "2");
        t.put("kiln.tokenize.tokenizer.vocab-size", "1024");
        Tokenize.run(spark, TokenizeConfig.from(KilnConfig.load(null, t)), new ObjectMapper().readTree("{}"));

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
        Pretraining.run(null, TrainConfig.from(pc), KilnConfig.renderJson(pc, TrainConfig.SECTION), false);
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
        return Finetuning.run(spark, FinetuneConfig.from(c), KilnConfig.renderJson(c, FinetuneConfig.SECTION), resume);
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
                splitsByCluster.computeIfAbsent(e.splitKey(), k -> new java.util.TreeSet<>()).add(split);
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

        ClassificationMetrics test = r.test();
        ClassificationMetrics majority = r.majority();
        System.out.printf(java.util.Locale.ROOT, "spam/ham test: %d documents, accuracy %.4f, macro F1 %.4f (spam F1 %.4f); "
                        + "majority class: accuracy %.4f, macro F1 %.4f; best epoch %d of %d, %d steps%n",
                test.examples(), test.accuracy(), test.macroF1(), test.f1()[1], majority.accuracy(), majority.macroF1(),
                r.bestEpoch() + 1, r.epochsRun(), r.steps());
        assertTrue(test.examples() >= 150, "a test split of real size: " + test.examples());
        assertTrue(test.macroF1() > majority.macroF1() + 0.3,
                "macro F1 " + test.macroF1() + " beats the majority class's " + majority.macroF1() + " by a wide margin");
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
                throw new java.io.UncheckedIOException(e);
            }
        }).filter(n -> n.path("kind").asText().equals("validation")).toList();
        assertEquals(r.epochsRun(), validation.size(), "validation after every epoch");
        assertTrue(validation.get(0).has("macro_f1") && validation.get(0).has("accuracy"));
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
                    scala.collection.JavaConverters.mapAsScalaMap(meta).toMap(scala.Predef.$conforms()), "h" + d[0], d[0]));
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
