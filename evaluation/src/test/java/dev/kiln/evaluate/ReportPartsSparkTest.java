package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.evaluate.classify.ClassifierReport;
import dev.kiln.evaluate.classify.ClusterSplits;
import dev.kiln.evaluate.text.Bleu;
import dev.kiln.evaluate.text.Rouge;
import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.metrics.Prediction;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classifier and generation parts of {@code kiln evaluate} on real inputs: SOTU shards and a tiny checkpoint
 * trained by the real trainer ({@link EvalFixtures}), and SpamAssassin mail preprocessed by Kiln in the test. The
 * report's numbers equal the metric classes applied directly to the same predictions and generated texts, and the
 * generation part is the same on local[1] and local[2].
 */
class ReportPartsSparkTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static java.nio.file.Path tmp;
    static Path shards;
    static Path pretrain;
    static java.nio.file.Path promptFile;

    @BeforeAll
    static void inputs() throws IOException {
        // 30 speeches: three validation documents to cut prompts from.
        shards = EvalFixtures.shards(tmp.resolve("tokenized"), 30);
        pretrain = EvalFixtures.pretrain(shards, tmp.resolve("pretrain"), 40, 20);
        promptFile = tmp.resolve("prompts.jsonl");
        Files.writeString(promptFile, """
                {"prompt": "Fellow citizens of the Senate and House of Representatives", "reference": "I have the honor to"}
                {"prompt": "The state of the Union"}
                """);
    }

    static Map<String, String> overrides(String runName) {
        Map<String, String> o = new HashMap<>();
        o.put("checkpoints", "[\"" + new Path(pretrain, "checkpoints/" + CheckpointStore.name(20)) + "\", \"" + pretrain + "\"]");
        o.put("shards", "[\"" + shards + "\"]");
        o.put("output", tmp.resolve("reports").toString());
        o.put("run-name", runName);
        o.put("generation.prompts", promptFile.toString());
        o.put("generation.from-validation", "3");
        o.put("generation.prompt-tokens", "16");
        o.put("generation.reference-tokens", "16");
        o.put("generation.max-new-tokens", "16");
        o.put("generation.batch-size", "2"); // several batches per task, and batches that shrink as sequences stop
        return o;
    }

    static Map<String, String> withClassifier(Map<String, String> o, String predictions, String documents) {
        Map<String, String> c = new HashMap<>(o);
        c.put("classifier.predictions", "[\"" + predictions + "\"]");
        c.put("classifier.documents", documents);
        c.put("classify.positive-label", "spam");
        c.put("classify.splits.train", "0.6");
        c.put("classify.splits.validation", "0.2");
        c.put("classify.splits.test", "0.2");
        // A shorter grid than the defaults keeps the test quick on two cores (as in BaselineClassifiersTest).
        c.put("classify.logistic-regression.reg-params", "[0.01, 0.1, 1.0]");
        c.put("classify.logistic-regression.max-iter", "50");
        return c;
    }

    static SparkSession session(String master) {
        return SparkSession.builder().master(master).appName("kiln-evaluate-parts-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
    }

    static Evaluate.Outcome evaluate(SparkSession spark, Map<String, String> o) throws IOException {
        return Evaluate.run(spark, EvalFixtures.config(o), EvalFixtures.lineage(o));
    }

    @Test
    void classifierAndGenerationPartsEqualTheirMetricsComputedDirectly() throws IOException {
        Evaluate.Outcome two;
        List<Prediction> predictions;
        SparkSession spark = session("local[2]");
        try {
            // Real SpamAssassin mail through Kiln's preprocessing, as BaselineClassifiersTest does it.
            String mails = SampleCorpora.spamAssassin() + "/*/000[0-9][0-9].*.txt";
            java.nio.file.Path pre = tmp.resolve("preprocessed");
            PreprocessConfig pc = PreprocessRuns.config("input.paths", mails, "input.format", "mail",
                    "filter.min-words", "20", "output.path", pre.toString());
            PreprocessPipeline.run(spark, pc, TestLineage.preprocess(spark));
            String documents = pre.resolve("documents").toString();

            // `kiln finetune` is being written elsewhere: these predictions come from a fixed keyword rule over the
            // test split (same cluster split as the baselines), in the JSONL layout it is to write, as two part files.
            predictions = keywordPredictions(spark, documents, new ClusterSplits(0.6, 0.2, 0.2));
            java.nio.file.Path parts = tmp.resolve("finetune").resolve("predictions");
            Files.createDirectories(parts);
            StringBuilder[] files = {new StringBuilder(), new StringBuilder()};
            for (int i = 0; i < predictions.size(); i++) {
                Prediction p = predictions.get(i);
                ObjectNode n = JSON.createObjectNode().put("id", p.id()).put("label", p.label()).put("predicted", p.predicted());
                ObjectNode probs = n.putObject("probabilities");
                p.probabilities().forEach(probs::put);
                files[i % 2].append(n).append('\n');
            }
            Files.writeString(parts.resolve("part-00000.jsonl"), files[0]);
            Files.writeString(parts.resolve("part-00001.jsonl"), files[1]);
            Files.writeString(parts.resolve("_SUCCESS"), "");

            badPredictionsAreRefusedAndWriteNothing(spark, documents, parts);

            Map<String, String> o = withClassifier(overrides("two"), tmp.resolve("finetune").toString(), documents);
            two = evaluate(spark, o);
            theWriterWritesWhatThePreviousWriterWrote(spark, o, two);
            for (String key : List.of("generate-0", "generate-1")) {
                int built = ModelCache.built(two.result().runId(), key);
                assertTrue(built >= 1 && built <= 2, built + " models built for generation; expected at most one per core");
            }
        } finally {
            spark.stop();
        }

        // The classifier part: the report's numbers are ClassifierMetrics of the same predictions.
        ClassifierMetrics direct = ClassifierMetrics.of(predictions, "spam");
        JsonNode cls = tree(two).path("classifier");
        assertEquals(4, cls.size(), "a comparison, the fine-tuned model and two baselines: " + cls);
        JsonNode ft = cls.get(1);
        assertEquals("finetune", ft.path("name").asText());
        assertEquals("fine-tuned", ft.path("kind").asText());
        assertEquals(2, ft.path("files").asInt());
        assertTrue(ft.path("same_split").asBoolean(), "the predictions cover the baselines' test split");
        assertEquals(direct.n(), ft.path("n").asLong());
        assertEquals(direct.accuracy(), ft.path("accuracy").asDouble(), 0.0);
        assertEquals(direct.macro().f1(), ft.path("macro_f1").asDouble(), 0.0);
        assertEquals(direct.weighted().f1(), ft.path("weighted_f1").asDouble(), 0.0);
        assertEquals(direct.positiveStats().f1(), ft.path("positive_f1").asDouble(), 0.0);
        assertEquals(direct.curves().get("spam").rocAuc(), ft.path("roc_auc").asDouble(), 0.0);
        assertEquals(direct.curves().get("spam").averagePrecision(), ft.path("average_precision").asDouble(), 0.0);
        assertEquals(JSON.valueToTree(direct.confusion().rows()), ft.path("confusion_matrix"));
        assertEquals(direct.curves().get("spam").roc().size(), ft.path("roc").path("fpr").size());
        // The baselines ran once on the same split, and the flag follows macro-F1.
        ClassifierMetrics lr = two.classifier().baselines().tfidf();
        assertEquals(lr.macro().f1(), cls.get(3).path("macro_f1").asDouble(), 0.0);
        assertEquals(direct.n(), lr.n());
        boolean beats = direct.macro().f1() > lr.macro().f1();
        assertEquals(beats, ft.path("beats_tfidf_logistic_regression").asBoolean());
        long classifierFlags = 0;
        for (JsonNode f : tree(two).path("flags")) {
            classifierFlags += f.asText().startsWith("classifier finetune does not beat") ? 1 : 0;
        }
        assertEquals(beats ? 0 : 1, classifierFlags);
        assertEquals(3, cls.get(0).path("models").size(), "one row per model and baseline");
        System.out.printf(Locale.ROOT, "keyword rule: macro-F1 %.4f, ROC AUC %.4f; TF-IDF + LR macro-F1 %.4f%n",
                direct.macro().f1(), direct.curves().get("spam").rocAuc(), lr.macro().f1());

        // The generation part: corpus BLEU and mean ROUGE over the generated texts, computed directly.
        JsonNode gen = tree(two).path("generation");
        assertEquals(2, gen.size());
        for (JsonNode g : gen) {
            assertEquals(5, g.path("prompts").asInt(), "two file prompts and three validation documents");
            assertEquals(3, g.path("from_validation").asInt());
            assertEquals(4, g.path("scored").asInt(), "the file prompt without a reference is not scored");
            List<String> hyps = new ArrayList<>();
            List<String> refs = new ArrayList<>();
            double[] f = new double[3];
            for (JsonNode s : g.path("samples")) {
                assertTrue(s.path("tokens").asInt() <= 16);
                if (s.hasNonNull("reference")) {
                    hyps.add(s.path("text").asText());
                    refs.add(s.path("reference").asText());
                    Map<Rouge.Type, Rouge.Score> r = Rouge.score(s.path("reference").asText(), s.path("text").asText());
                    for (Rouge.Type t : Rouge.Type.values()) {
                        f[t.ordinal()] += r.get(t).fmeasure();
                    }
                }
            }
            Bleu.Score bleu = Bleu.corpus(hyps, List.of(refs));
            JsonNode m = g.path("metrics");
            assertEquals(bleu.bleu(), m.path("bleu").asDouble(), 1e-15, g.path("name").asText());
            assertEquals(bleu.stats().hypLen(), m.path("bleu_hyp_len").asLong());
            for (Rouge.Type t : Rouge.Type.values()) {
                assertEquals(f[t.ordinal()] / hyps.size(), m.path(t.key() + "_f").asDouble(), 1e-12, t.key());
            }
            System.out.printf(Locale.ROOT, "%s: BLEU %.4f, ROUGE-1/2/L F %.4f/%.4f/%.4f; first sample %s%n", g.path("name").asText(),
                    bleu.bleu(), m.path("rouge1_f").asDouble(), m.path("rouge2_f").asDouble(), m.path("rougeL_f").asDouble(),
                    g.path("samples").get(2));
        }
        // The three files show both parts.
        java.nio.file.Path folder = tmp.resolve("reports").resolve("two");
        JsonNode written = JSON.readTree(folder.resolve(Report.JSON_FILE).toFile());
        assertEquals(direct.macro().f1(), written.path("classifier").path(1).path("macro_f1").asDouble(), 0.0);
        assertEquals(gen.get(1).path("metrics").path("bleu").asDouble(), written.path("generation").path(1).path("metrics").path("bleu").asDouble(), 0.0);
        assertEquals(gen.get(1).path("samples").path(4).path("text").asText(), written.path("generation").path(1).path("samples").path(4).path("text").asText());
        String md = Files.readString(folder.resolve(Report.MARKDOWN_FILE));
        assertTrue(md.contains("## Classifier (test split of") && md.contains("| finetune | fine-tuned |")
                && md.contains("| tfidf-logistic-regression | baseline |") && md.contains("## Generation"), md);
        assertEquals(!beats, md.contains("**FLAG:** classifier finetune does not beat"), md);
        String html = Files.readString(folder.resolve(HtmlReport.FILE));
        assertTrue(html.contains("<section id=\"classifier\">") && html.contains("<section id=\"generation\">"));
        System.out.println(md);

        JsonNode validationSample = gen.get(0).path("samples").get(2);
        assertEquals(GenerationReport.SOURCE_DOCUMENTS, validationSample.path("source").asText());
        assertFalse(validationSample.path("reference").asText().isEmpty());

        // The same generations and numbers on local[1] (classifier part off).
        SparkSession one = session("local[1]");
        Evaluate.Outcome single;
        try {
            single = evaluate(one, overrides("one"));
        } finally {
            one.stop();
        }
        assertTrue(tree(single).path("classifier").isMissingNode());
        assertEquals(withoutTimes(gen), withoutTimes(tree(single).path("generation")), "local[2] vs local[1]");
    }

    /** The report as a JSON tree, as report.json holds it. */
    static JsonNode tree(Evaluate.Outcome o) {
        return JSON.valueToTree(o.report());
    }

    /**
     * report.json of this real run equals, key for key and value for value, what the hand-built writer of schema 2
     * (kept in {@link ReportJsonSchema2}) writes from the same run's numbers.
     */
    static void theWriterWritesWhatThePreviousWriterWrote(SparkSession spark, Map<String, String> o, Evaluate.Outcome run)
            throws IOException {
        EvaluateConfig cfg = EvalFixtures.config(o);
        EvaluateConfig.Classifier cls = cfg.classifier();
        EvaluationReport now = run.report();
        ObjectNode before = ReportJsonSchema2.full(
                ReportJsonSchema2.json(cfg, EvalFixtures.lineage(o), run.inputs(), run.result(), Instant.parse(now.started()),
                        Instant.parse(now.finished())),
                ReportJsonSchema2.spark(spark.sparkContext()),
                TrainingCurves.read(spark.sparkContext().hadoopConfiguration(), run.inputs().checkpoints()),
                ClassifierReport.json(run.classifier(), cls.documents(), cls.classify()),
                ClassifierReport.flags(run.classifier(), cls.documents()),
                GenerationReport.json(run.generation(), run.inputs(), cfg.generation()));
        JsonNode written = JSON.readTree(run.folder().getFileSystem(spark.sparkContext().hadoopConfiguration())
                .open(new Path(run.folder(), Report.JSON_FILE)));
        assertEquals(JSON.readTree(JSON.writeValueAsString(before)), written, "report.json: the previous writer's keys and values");
    }

    /** The generation part without its wall-clock field (the only one that may differ between runs). */
    static JsonNode withoutTimes(JsonNode generation) {
        JsonNode copy = generation.deepCopy();
        copy.forEach(g -> ((ObjectNode) g).remove("job_seconds"));
        return copy;
    }

    /** A missing predictions folder and a file with a label the documents lack: exit-2 errors naming the path. */
    static void badPredictionsAreRefusedAndWriteNothing(SparkSession spark, String documents, java.nio.file.Path parts) throws IOException {
        java.nio.file.Path missing = tmp.resolve("no-such-predictions");
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> evaluate(spark, withClassifier(overrides("bad-missing"), missing.toString(), documents)));
        assertEquals("kiln.evaluate.classifier.predictions", e.key());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        java.nio.file.Path unknown = tmp.resolve("unknown-label.jsonl");
        String first = Files.readAllLines(parts.resolve("part-00000.jsonl")).get(0);
        Files.writeString(unknown, first.replace("\"predicted\":\"ham\"", "\"predicted\":\"eggs\"")
                .replace("\"predicted\":\"spam\"", "\"predicted\":\"eggs\"") + "\n");
        e = assertThrows(InvalidConfigException.class,
                () -> evaluate(spark, withClassifier(overrides("bad-label"), unknown.toString(), documents)));
        assertTrue(e.getMessage().contains(unknown.toString()) && e.getMessage().contains("eggs"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("reports").resolve("bad-missing")));
        assertFalse(Files.exists(tmp.resolve("reports").resolve("bad-label")));
    }

    /** "spam" when at least two spam words occur; the probability is the share of the words that occur. */
    static List<Prediction> keywordPredictions(SparkSession spark, String documents, ClusterSplits splits) {
        List<String> words = List.of("click", "free", "money", "offer", "remove", "order", "$", "credit", "unsubscribe", "guarantee");
        List<Prediction> out = new ArrayList<>();
        for (Row r : spark.read().parquet(documents).select(col("id"), col("text"), col("cluster_id"),
                col("metadata").getItem("label")).collectAsList()) {
            if (r.isNullAt(3) || !splits.splitOf(r.getString(2)).equals(ClusterSplits.TEST)) {
                continue;
            }
            String text = r.getString(1).toLowerCase(Locale.ROOT);
            long hits = words.stream().filter(text::contains).count();
            double p = (double) hits / words.size();
            Map<String, Double> probabilities = new TreeMap<>(Map.of("spam", p, "ham", 1 - p));
            out.add(new Prediction(r.getString(0), r.getString(3), hits >= 2 ? "spam" : "ham", probabilities));
        }
        out.sort(Comparator.comparing(Prediction::id));
        assertNotNull(out.isEmpty() ? null : out, "test documents to predict");
        return out;
    }
}
