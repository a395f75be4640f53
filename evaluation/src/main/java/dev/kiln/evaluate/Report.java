package dev.kiln.evaluate;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkExecutorInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report.json} (every number, an {@link EvaluationReport}; schema described in the README under "kiln
 * evaluate"), {@code report.md} (the table a person reads) and {@code report.html} (the same with charts, see
 * {@link HtmlReport}), written into a staging folder and renamed onto {@code <output>/<run-name>} when all three are
 * complete. The one writer ({@link #toJson}) and the one reader ({@link #read}) of report.json.
 */
public final class Report {
    /** 2: adds {@code per_source} (results per source group); every key of version 1 is kept. */
    public static final int SCHEMA_VERSION = 2;
    public static final String JSON_FILE = "report.json";
    public static final String MARKDOWN_FILE = "report.md";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Reads every schema so far: a key a report of another version has and this one does not know is skipped. */
    private static final ObjectMapper READER = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS.mappedFeature());

    private Report() {
    }

    /** The parts of a report that other classes compute: null where a part is off. */
    public record Parts(EvaluationReport.SparkApplication spark, JsonNode training, JsonNode classifier, List<String> classifierFlags,
                        JsonNode generation) {
    }

    /**
     * The report of a run. "lineage" is {@link Lineage#toJson()}; "versions" (kiln, spark, dl4j, java) and "config"
     * (the effective kiln.evaluate section) are the same facts in the shape earlier reports had.
     */
    public static EvaluationReport build(EvaluateConfig cfg, Lineage lineage, Inputs.Checked in, Evaluation.Result r,
                                         Instant started, Instant finished, Parts parts) {
        List<String> flags = new ArrayList<>(flags(cfg, in, r));
        if (parts.classifierFlags() != null) {
            flags.addAll(parts.classifierFlags());
        }
        List<String> notes = new ArrayList<>();
        notes.add("documents are recovered from the shards by splitting at end-of-text; their sources come from the shards' "
                + "sources column (shard format 2), and documents of format 1 shards, which have none, are grouped under their shard folder");
        if (cfg.split().equals(ShardSchema.TRAIN) && r.counts() != null) {
            notes.add("the n-gram baselines were counted on the split they are scored on (train): their numbers are fits to seen data");
        }
        long tokens = r.perShardSet().stream().mapToLong(l -> l.get(0).tokens()).sum();
        EvaluationReport.Scoring scoring = new EvaluationReport.Scoring(r.rows(), r.tasks(), r.batches(), r.scoreTasks(),
                r.scoringSeconds(), tokens / Math.max(r.scoringSeconds(), 1e-9), cfg.batchSize());
        return new EvaluationReport(SCHEMA_VERSION, EvaluationReport.KIND, cfg.runName(), started.toString(), finished.toString(),
                (finished.toEpochMilli() - started.toEpochMilli()) / 1000.0, versions(lineage), lineage.config(), lineage.toJson(),
                inputs(cfg, in), baselines(cfg, r), results(cfg, in, r), r.perSource() != null ? perSource(cfg, in, r) : null,
                flags, notes, lmEval(cfg, in, r), scoring, parts.spark(), parts.training(), parts.classifier(), parts.generation());
    }

    static EvaluationReport.InputList inputs(EvaluateConfig cfg, Inputs.Checked in) {
        List<EvaluationReport.CheckpointEntry> cps = in.checkpoints().stream().map(c -> new EvaluationReport.CheckpointEntry(
                c.name(), c.folder().toString(), c.step(), c.tokenizerSha256(), c.stateSha256(), c.modelSha256(), c.modelZipBytes())).toList();
        List<EvaluationReport.ShardSetEntry> sets = in.shardSets().stream().map(s -> new EvaluationReport.ShardSetEntry(
                s.dir().toString(), s.manifestSha256(), s.manifest().tokenizerSha256(), s.manifest().vocabSize(),
                s.manifest().contextLength(), cfg.split(), s.scored().size(), s.scored().stream().mapToLong(ShardInfo::rows).sum(),
                s.scored().stream().mapToLong(ShardInfo::bytes).sum(), (long) s.train().size())).toList();
        return new EvaluationReport.InputList(cps, sets);
    }

    static EvaluationReport.BaselineCounts baselines(EvaluateConfig cfg, Evaluation.Result r) {
        return new EvaluationReport.BaselineCounts(ShardSchema.TRAIN,
                r.counts() != null ? r.counts().tokens() : null, r.counts() != null ? (Long) (long) r.counts().distinctBigrams() : null,
                r.bigram() != null ? (cfg.estimateDiscount() ? "n1/(n1+2*n2)" : "fixed") : null,
                r.bigram() != null ? r.bigram().bigramDiscount() : null, r.bigram() != null ? r.bigram().unigramDiscount() : null);
    }

    /** Per shard set: its counts and every scorer's metrics; a checkpoint says whether it beats the bigram baseline. */
    static List<EvaluationReport.ShardSetScores> results(EvaluateConfig cfg, Inputs.Checked in, Evaluation.Result r) {
        List<EvaluationReport.ShardSetScores> out = new ArrayList<>();
        int bigram = r.scorers().indexOf(EvaluateConfig.Baseline.BIGRAM.key());
        for (int s = 0; s < in.shardSets().size(); s++) {
            List<LmStats> stats = r.perShardSet().get(s);
            List<EvaluationReport.ScorerScores> scorers = new ArrayList<>();
            for (int i = 0; i < stats.size(); i++) {
                boolean checkpoint = i < r.checkpoints();
                Boolean beats = checkpoint && bigram >= 0 ? stats.get(i).nll() < stats.get(bigram).nll() : null;
                scorers.add(EvaluationReport.ScorerScores.of(r.scorers().get(i), checkpoint, stats.get(i), LmMetric.Place.SCORES, beats));
            }
            LmStats any = stats.get(0);
            out.add(new EvaluationReport.ShardSetScores(in.shardSets().get(s).dir().toString(), cfg.split(), r.perSource() != null,
                    any.documents(), any.tokens(), any.bytes(), any.words(), scorers));
        }
        return out;
    }

    /**
     * report.json's {@code per_source}: the grouping, then per shard set its groups (capped, name order, "(other)"
     * last), each with its counts and every scorer's {@link LmMetric.Place#PER_SOURCE} metrics.
     */
    static EvaluationReport.PerSourceScores perSource(EvaluateConfig cfg, Inputs.Checked in, Evaluation.Result r) {
        SourceGroups g = cfg.perSource();
        List<EvaluationReport.SourceSetScores> sets = new ArrayList<>();
        for (int s = 0; s < in.shardSets().size(); s++) {
            SourceGroups.Capped c = r.perSource().get(s);
            List<EvaluationReport.GroupScores> groups = new ArrayList<>();
            c.groups().forEach((name, stats) -> {
                List<EvaluationReport.ScorerScores> scorers = new ArrayList<>();
                for (int i = 0; i < stats.size(); i++) {
                    scorers.add(EvaluationReport.ScorerScores.of(r.scorers().get(i), i < r.checkpoints(), stats.get(i),
                            LmMetric.Place.PER_SOURCE, null));
                }
                LmStats any = stats.get(0);
                groups.add(new EvaluationReport.GroupScores(name, any.documents(), any.tokens(), any.bytes(), any.words(), scorers));
            });
            sets.add(new EvaluationReport.SourceSetScores(in.shardSets().get(s).dir().toString(), cfg.split(), c.found(), c.folded(), groups));
        }
        return new EvaluationReport.PerSourceScores(g.groupBy().key(), g.pattern(), g.maxGroups(), sets);
    }

    /** The same numbers in lm-evaluation-harness's results layout, one block per model, task = <shard folder>/<split>. */
    static Map<String, Map<String, Map<String, Map<String, Object>>>> lmEval(EvaluateConfig cfg, Inputs.Checked in, Evaluation.Result r) {
        Map<String, Map<String, Map<String, Map<String, Object>>>> out = new LinkedHashMap<>();
        for (int i = 0; i < r.scorers().size(); i++) {
            Map<String, Map<String, Object>> tasks = new LinkedHashMap<>();
            for (int s = 0; s < in.shardSets().size(); s++) {
                String task = in.shardSets().get(s).dir().getName() + "/" + cfg.split();
                LmStats st = r.perShardSet().get(s).get(i);
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("alias", task);
                for (LmMetric m : LmMetric.shownIn(LmMetric.Place.LM_EVAL)) {
                    t.put(m.key() + ",none", m.of(st));
                    t.put(m.key() + "_stderr,none", "N/A");
                }
                tasks.put(task, t);
            }
            out.put(r.scorers().get(i), Map.of("results", tasks));
        }
        return out;
    }

    /** One line per checkpoint and shard set where the checkpoint does not beat the bigram baseline. */
    static List<String> flags(EvaluateConfig cfg, Inputs.Checked in, Evaluation.Result r) {
        List<String> out = new ArrayList<>();
        int bigram = r.scorers().indexOf(EvaluateConfig.Baseline.BIGRAM.key());
        if (bigram < 0) {
            return out;
        }
        for (int s = 0; s < in.shardSets().size(); s++) {
            List<LmStats> stats = r.perShardSet().get(s);
            for (int i = 0; i < r.checkpoints(); i++) {
                if (!(stats.get(i).nll() < stats.get(bigram).nll())) {
                    out.add(String.format(Locale.ROOT, "%s does not beat the bigram baseline on %s (%s): %.4f vs %.4f bits per byte",
                            r.scorers().get(i), in.shardSets().get(s).dir(), cfg.split(), stats.get(i).bitsPerByte(),
                            stats.get(bigram).bitsPerByte()));
                }
            }
        }
        return out;
    }

    /** report.md: one table per shard set, scorers as columns, a row per {@link LmMetric.Place#TABLE} metric. */
    public static String markdown(EvaluationReport report) {
        StringBuilder sb = new StringBuilder();
        sb.append("# kiln evaluate: ").append(report.runName()).append("\n\n");
        sb.append("Started ").append(report.started()).append(", finished ").append(report.finished())
                .append(". Every number is also in `report.json`.\n\n");
        if (report.flags().isEmpty()) {
            sb.append(hasBigram(report) ? "Every checkpoint beats the bigram baseline.\n\n" : "No bigram baseline in this run.\n\n");
        } else {
            report.flags().forEach(f -> sb.append("**FLAG:** ").append(f).append("\n\n"));
        }
        report.notes().forEach(n -> sb.append("Note: ").append(n).append(".\n\n"));
        for (EvaluationReport.ShardSetScores set : report.results()) {
            sb.append("## ").append(set.shards()).append(" (split ").append(set.split()).append(")\n\n");
            sb.append(String.format(Locale.ROOT, "%,d documents, %,d tokens, %,d bytes, %,d words.%n%n",
                    set.documents(), set.tokens(), set.bytes(), set.words()));
            sb.append("| metric |");
            set.scorers().forEach(s -> sb.append(' ').append(s.name()).append(s.baseline() ? " (baseline)" : "").append(" |"));
            sb.append("\n|---|");
            set.scorers().forEach(s -> sb.append("---:|"));
            sb.append('\n');
            for (LmMetric m : LmMetric.shownIn(LmMetric.Place.TABLE)) {
                sb.append("| ").append(m.heading()).append(" |");
                set.scorers().forEach(s -> sb.append(' ').append(m.format(s.value(m))).append(" |"));
                sb.append('\n');
            }
            sb.append("| beats bigram |");
            set.scorers().forEach(s -> sb.append(s.beatsBigram() == null ? " |" : s.beatsBigram() ? " yes |" : " **no** |"));
            sb.append("\n\n");
        }
        markdownPerSource(report.perSource(), sb);
        markdownClassifier(report.classifier(), sb);
        markdownGeneration(report.generation(), sb);
        markdownInputs(report, sb);
        return sb.toString();
    }

    /** Whether a bigram baseline ran: then every checkpoint says whether it beats it. */
    static boolean hasBigram(EvaluationReport report) {
        return !report.results().isEmpty() && report.results().get(0).scorers().stream().anyMatch(s -> s.beatsBigram() != null);
    }

    static void markdownInputs(EvaluationReport report, StringBuilder sb) {
        sb.append("## Inputs\n\n");
        for (EvaluationReport.CheckpointEntry c : report.inputs().checkpoints()) {
            sb.append("- checkpoint `").append(c.name()).append("`: ").append(c.path()).append(" (step ").append(c.step())
                    .append(", state.json SHA-256 ").append(c.stateSha256()).append(")\n");
        }
        for (EvaluationReport.ShardSetEntry s : report.inputs().shards()) {
            sb.append("- shards ").append(s.path()).append(" (manifest SHA-256 ").append(s.manifestSha256()).append(")\n");
        }
        EvaluationReport.BaselineCounts b = report.baselines();
        if (b != null && b.trainTokens() != null) {
            sb.append(String.format(Locale.ROOT, "- baselines counted on %,d train tokens (%,d distinct bigrams)", b.trainTokens(),
                    b.distinctBigrams()));
            if (b.bigramDiscount() != null) {
                sb.append(String.format(Locale.ROOT, "; Kneser-Ney discounts %.4f (bigram) and %.4f (continuation), %s",
                        b.bigramDiscount(), b.continuationDiscount(), b.bigramDiscountMethod()));
            }
            sb.append('\n');
        }
        EvaluationReport.Versions v = report.versions();
        sb.append("- versions: Kiln ").append(v.kiln()).append(", Spark ").append(v.spark()).append(", DL4J ").append(v.dl4j())
                .append(", Java ").append(v.java()).append('\n');
    }

    /** Per shard set, one row per source group: counts and every scorer's {@link LmMetric.Place#PER_SOURCE_TABLE} metric. */
    static void markdownPerSource(EvaluationReport.PerSourceScores perSource, StringBuilder sb) {
        if (perSource == null) {
            return;
        }
        for (EvaluationReport.SourceSetScores set : perSource.sets()) {
            sb.append("## Per source: ").append(set.shards()).append(" (split ").append(set.split())
                    .append(", group-by ").append(perSource.groupBy());
            if (perSource.pattern() != null && !perSource.pattern().isEmpty()) {
                sb.append(" `").append(oneLine(perSource.pattern())).append('`');
            }
            sb.append(")\n\n");
            List<LmMetric> shown = LmMetric.shownIn(LmMetric.Place.PER_SOURCE_TABLE);
            sb.append(String.format(Locale.ROOT, "%d group(s)%s; %s.%n%n", set.groupsFound(), set.groupsInOther() > 0
                    ? ", " + set.groupsInOther() + " of them summed into " + SourceGroups.OTHER : "",
                    String.join(", ", shown.stream().map(LmMetric::heading).toList())));
            List<EvaluationReport.ScorerScores> scorers = set.groups().isEmpty() ? List.of() : set.groups().get(0).scorers();
            sb.append("| group | documents | tokens | bytes |");
            for (LmMetric m : shown) {
                scorers.forEach(s -> sb.append(' ').append(cellText(s.name())).append(s.baseline() ? " (baseline)" : "")
                        .append(shown.size() > 1 ? " " + m.heading() : "").append(" |"));
            }
            sb.append("\n|---|---:|---:|---:|");
            shown.forEach(m -> scorers.forEach(s -> sb.append("---:|")));
            sb.append('\n');
            for (EvaluationReport.GroupScores g : set.groups()) {
                sb.append("| ").append(cellText(g.group())).append(String.format(Locale.ROOT, " | %,d | %,d | %,d |",
                        g.documents(), g.tokens(), g.bytes()));
                shown.forEach(m -> g.scorers().forEach(s -> sb.append(' ').append(m.format(s.value(m))).append(" |")));
                sb.append('\n');
            }
            sb.append('\n');
        }
    }

    /** Data in a Markdown table cell: in code, on one line, with no '|' to end the cell. */
    private static String cellText(String s) {
        return "`" + oneLine(s).replace('|', '/') + "`";
    }

    /** The classifier comparison: one row per fine-tuned model and baseline (test split). */
    static void markdownClassifier(JsonNode classifier, StringBuilder sb) {
        if (classifier == null || !classifier.isArray() || classifier.isEmpty()) {
            return;
        }
        JsonNode cmp = classifier.get(0);
        sb.append("## Classifier (test split of ").append(cmp.path("documents").asText()).append(")\n\n");
        sb.append(String.format(Locale.ROOT, "Label field `%s`, labels %s; %,d train, %,d validation, %,d test documents; "
                        + "TF-IDF + logistic regression with regParam %s (best validation macro-F1).%n%n",
                cmp.path("label_field").asText(), cmp.path("labels").asText(), cmp.path("train_documents").asLong(),
                cmp.path("validation_documents").asLong(), cmp.path("test_documents").asLong(), cmp.path("selected_reg_param").asText()));
        sb.append("| model | kind | n | accuracy | macro-F1 | weighted-F1 | positive F1 | ROC AUC | beats TF-IDF + LR |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
        for (JsonNode m : cmp.path("models")) {
            sb.append("| ").append(m.path("name").asText()).append(" | ").append(m.path("kind").asText()).append(" | ")
                    .append(m.path("n").asLong()).append(" |").append(cellMd(m, "accuracy")).append(cellMd(m, "macro_f1"))
                    .append(cellMd(m, "weighted_f1")).append(cellMd(m, "positive_f1"))
                    .append(cellMd(m, m.has("roc_auc") ? "roc_auc" : "macro_roc_auc"))
                    .append(m.has("beats_tfidf_logistic_regression")
                            ? (m.path("beats_tfidf_logistic_regression").asBoolean() ? " yes |" : " **no** |") : " |")
                    .append('\n');
        }
        sb.append('\n');
        for (JsonNode m : cmp.path("models")) {
            if (m.has("same_split") && !m.path("same_split").asBoolean()) {
                sb.append("Note: ").append(m.path("name").asText())
                        .append("'s predictions are not exactly the documents of the baselines' test split; the numbers are not comparable.\n\n");
            }
        }
    }

    /** Generation metrics per checkpoint and the first samples. */
    static void markdownGeneration(JsonNode generation, StringBuilder sb) {
        if (generation == null || !generation.isArray() || generation.isEmpty()) {
            return;
        }
        sb.append("## Generation\n\n");
        sb.append("| checkpoint | prompts | scored | tokens | BLEU | ROUGE-1 F | ROUGE-2 F | ROUGE-L F |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (JsonNode g : generation) {
            JsonNode m = g.path("metrics");
            sb.append("| ").append(g.path("name").asText()).append(" | ").append(g.path("prompts").asLong()).append(" | ")
                    .append(g.path("scored").asLong()).append(" | ").append(g.path("generated_tokens").asLong()).append(" |")
                    .append(cellMd(m, "bleu")).append(cellMd(m, "rouge1_f")).append(cellMd(m, "rouge2_f")).append(cellMd(m, "rougeL_f"))
                    .append('\n');
        }
        sb.append("\nBLEU is corpus BLEU as a fraction (sacreBLEU prints it times 100); ROUGE is the mean F over the scored prompts.\n\n");
        JsonNode first = generation.get(0);
        int shown = Math.min(3, first.path("samples").size());
        for (int i = 0; i < shown; i++) {
            JsonNode s = first.path("samples").get(i);
            sb.append("- ").append(first.path("name").asText()).append(", prompt ").append(s.path("index").asInt()).append(": `")
                    .append(oneLine(s.path("prompt").asText())).append("` -> `").append(oneLine(s.path("text").asText())).append('`');
            if (s.hasNonNull("reference")) {
                sb.append(" (reference `").append(oneLine(s.path("reference").asText())).append("`)");
            }
            sb.append('\n');
        }
        sb.append('\n');
    }

    private static String cellMd(JsonNode n, String field) {
        return n.path(field).isNumber() ? String.format(Locale.ROOT, " %.4f |", n.path(field).asDouble()) : " |";
    }

    /** A text on one line of Markdown code: newlines and backticks would end it. */
    private static String oneLine(String s) {
        String t = s.replace('\n', ' ').replace('\r', ' ').replace('`', '\'');
        return t.length() > 120 ? t.substring(0, 120) + "..." : t;
    }

    /** report.json's text: the one writer. */
    public static String toJson(EvaluationReport report) {
        try {
            return JSON.writeValueAsString(report) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write report.json for run " + report.runName(), e);
        }
    }

    /** Reads report.json of this schema or an earlier one (keys it does not know are left out); the one reader. */
    public static EvaluationReport read(String json, String where) {
        try {
            return READER.readValue(json, EvaluationReport.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + " is not a readable report.json: " + e.getMessage(), e);
        }
    }

    /** Reads a report.json already parsed (a tree, as tests and tools hold it). */
    public static EvaluationReport read(JsonNode tree, String where) {
        try {
            return READER.treeToValue(tree, EvaluationReport.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + " is not a readable report.json: " + e.getMessage(), e);
        }
    }

    /** Reads {@code <folder>/report.json}. */
    public static EvaluationReport read(FileSystem fs, Path folder) throws IOException {
        Path file = new Path(folder, JSON_FILE);
        try (FSDataInputStream in = fs.open(file)) {
            return read(new String(in.readAllBytes(), StandardCharsets.UTF_8), file.toString());
        }
    }

    /** Writes the three files into a staging folder, then renames it onto {@code target}; an existing target is an error. */
    public static void write(FileSystem fs, Path target, EvaluationReport report) throws IOException {
        fs.mkdirs(target.getParent());
        Path staging = AtomicOutput.stagingFor(target);
        fs.mkdirs(staging);
        boolean done = false;
        try {
            writeFile(fs, new Path(staging, JSON_FILE), toJson(report));
            writeFile(fs, new Path(staging, MARKDOWN_FILE), markdown(report));
            writeFile(fs, new Path(staging, HtmlReport.FILE), HtmlReport.render(report));
            if (fs.exists(target)) {
                throw new IOException("the report folder " + target + " appeared while this run was scoring; nothing was written to it");
            }
            AtomicOutput.dropChecksums(fs, staging); // no .crc side files in a folder a person opens
            if (!fs.rename(staging, target)) {
                throw new IOException("cannot rename " + staging + " to " + target);
            }
            done = true;
        } finally {
            if (!done) {
                fs.delete(staging, true);
            }
        }
    }

    private static void writeFile(FileSystem fs, Path p, String content) throws IOException {
        try (FSDataOutputStream out = fs.create(p, false)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The Spark application the report was computed by: master, application, parallelism, executors (host:port). */
    public static EvaluationReport.SparkApplication spark(SparkContext sc) {
        List<String> executors = new ArrayList<>();
        for (SparkExecutorInfo e : sc.statusTracker().getExecutorInfos()) {
            executors.add(e.host() + ":" + e.port());
        }
        return new EvaluationReport.SparkApplication(sc.master(), sc.applicationId(), sc.appName(), sc.defaultParallelism(),
                executors, "as Spark's status tracker lists them when the report is written, the driver included");
    }

    /** Kiln and DL4J as built, Spark and Java as run: the lineage's versions in report.json's "versions" shape. */
    static EvaluationReport.Versions versions(Lineage lineage) {
        return new EvaluationReport.Versions(lineage.kilnVersion(), lineage.sparkVersion(), lineage.build().get("dl4j"),
                lineage.javaVersion());
    }
}
