package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code report.json} (every number, schema described in the README under "kiln evaluate"), {@code report.md}
 * (the table a person reads) and {@code report.html} (the same with charts, see {@link HtmlReport}), written into
 * a staging folder and renamed onto {@code <output>/<run-name>} when all three are complete.
 */
public final class Report {
    /** 2: adds {@code per_source} (results per source group); every key of version 1 is kept. */
    public static final int SCHEMA_VERSION = 2;
    public static final String JSON_FILE = "report.json";
    public static final String MARKDOWN_FILE = "report.md";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Report() {
    }

    /**
     * Builds report.json's tree. "lineage" is {@link Lineage#toJson()}; "versions" (kiln, spark, dl4j, java) and
     * "config" (the effective kiln.evaluate section) are the same facts in the shape earlier reports had.
     */
    public static ObjectNode json(EvaluateConfig cfg, Lineage lineage, Inputs.Checked in, Evaluation.Result r,
                                  Instant started, Instant finished) {
        ObjectNode root = JSON.createObjectNode();
        root.put("schema_version", SCHEMA_VERSION);
        root.put("kind", "kiln-evaluate-report");
        root.put("run_name", cfg.runName());
        root.put("started", started.toString());
        root.put("finished", finished.toString());
        root.put("duration_s", (finished.toEpochMilli() - started.toEpochMilli()) / 1000.0);
        root.set("versions", versions(lineage));
        root.set("config", lineage.config());
        root.set("lineage", lineage.toJson());

        ObjectNode inputs = root.putObject("inputs");
        ArrayNode cps = inputs.putArray("checkpoints");
        for (Inputs.CheckpointInput c : in.checkpoints()) {
            ObjectNode n = cps.addObject();
            n.put("name", c.name());
            n.put("path", c.folder().toString());
            n.put("step", c.step());
            n.put("tokenizer_sha256", c.tokenizerSha256());
            n.put("state_sha256", c.stateSha256());
            n.put("model_sha256", c.modelSha256());
            n.put("model_bytes", c.modelZipBytes());
        }
        ArrayNode sets = inputs.putArray("shards");
        for (Inputs.ShardSetInput s : in.shardSets()) {
            ObjectNode n = sets.addObject();
            n.put("path", s.dir().toString());
            n.put("manifest_sha256", s.manifestSha256());
            n.put("tokenizer_sha256", s.manifest().tokenizerSha256());
            n.put("vocab_size", s.manifest().vocabSize());
            n.put("context_length", s.manifest().contextLength());
            n.put("split", cfg.split());
            n.put("shard_files", s.scored().size());
            n.put("rows", s.scored().stream().mapToLong(dev.kiln.shards.ShardInfo::rows).sum());
            n.put("bytes", s.scored().stream().mapToLong(dev.kiln.shards.ShardInfo::bytes).sum());
            n.put("train_shard_files", s.train().size());
        }

        ObjectNode base = root.putObject("baselines");
        base.put("counted_on_split", dev.kiln.shards.ShardSchema.TRAIN);
        if (r.counts() != null) {
            base.put("train_tokens", r.counts().tokens());
            base.put("distinct_bigrams", r.counts().distinctBigrams());
        }
        if (r.bigram() != null) {
            base.put("bigram_discount_method", cfg.estimateDiscount() ? "n1/(n1+2*n2)" : "fixed");
            base.put("bigram_discount", r.bigram().bigramDiscount());
            base.put("continuation_discount", r.bigram().unigramDiscount());
        }

        ArrayNode results = root.putArray("results");
        List<String> flags = flags(cfg, in, r);
        for (int s = 0; s < in.shardSets().size(); s++) {
            ObjectNode n = results.addObject();
            n.put("shards", in.shardSets().get(s).dir().toString());
            n.put("split", cfg.split());
            n.put("per_source", r.perSource() != null); // the groups are in per_source.sets[s]
            List<LmStats> stats = r.perShardSet().get(s);
            LmStats any = stats.get(0);
            n.put("documents", any.documents());
            n.put("tokens", any.tokens());
            n.put("bytes", any.bytes());
            n.put("words", any.words());
            ArrayNode scorers = n.putArray("scorers");
            int bigramIndex = r.scorers().indexOf(EvaluateConfig.Baseline.BIGRAM.key());
            for (int i = 0; i < stats.size(); i++) {
                LmStats st = stats.get(i);
                ObjectNode m = scorers.addObject();
                m.put("name", r.scorers().get(i));
                m.put("kind", i < r.checkpoints() ? "checkpoint" : "baseline");
                m.put("nll_sum", st.nll());
                m.put("loss", st.loss());
                m.put("token_perplexity", st.tokenPerplexity());
                m.put("word_perplexity", st.wordPerplexity());
                m.put("byte_perplexity", st.bytePerplexity());
                m.put("bits_per_byte", st.bitsPerByte());
                if (i < r.checkpoints() && bigramIndex >= 0) {
                    m.put("beats_bigram", st.nll() < stats.get(bigramIndex).nll());
                }
            }
        }
        if (r.perSource() != null) {
            root.set("per_source", perSource(cfg, in, r));
        }
        ArrayNode f = root.putArray("flags");
        flags.forEach(f::add);
        ArrayNode notes = root.putArray("notes");
        notes.add("documents are recovered from the shards by splitting at end-of-text; their sources come from the shards' "
                + "sources column (shard format 2), and documents of format 1 shards, which have none, are grouped under their shard folder");
        if (cfg.split().equals(dev.kiln.shards.ShardSchema.TRAIN) && r.counts() != null) {
            notes.add("the n-gram baselines were counted on the split they are scored on (train): their numbers are fits to seen data");
        }

        // The same numbers in lm-evaluation-harness's results layout, one block per model, task = <shard folder>/<split>.
        ObjectNode lmEval = root.putObject("lm_eval");
        for (int i = 0; i < r.scorers().size(); i++) {
            ObjectNode tasks = lmEval.putObject(r.scorers().get(i)).putObject("results");
            for (int s = 0; s < in.shardSets().size(); s++) {
                String task = in.shardSets().get(s).dir().getName() + "/" + cfg.split();
                LmStats st = r.perShardSet().get(s).get(i);
                ObjectNode t = tasks.putObject(task);
                t.put("alias", task);
                t.put("word_perplexity,none", st.wordPerplexity());
                t.put("word_perplexity_stderr,none", "N/A");
                t.put("byte_perplexity,none", st.bytePerplexity());
                t.put("byte_perplexity_stderr,none", "N/A");
                t.put("bits_per_byte,none", st.bitsPerByte());
                t.put("bits_per_byte_stderr,none", "N/A");
            }
        }
        ObjectNode scoring = root.putObject("scoring");
        scoring.put("rows", r.rows());
        scoring.put("tasks", r.tasks());
        scoring.put("batches", r.batches());
        scoring.put("score_tasks", r.scoreTasks());
        scoring.put("seconds", r.scoringSeconds());
        long tokens = r.perShardSet().stream().mapToLong(l -> l.get(0).tokens()).sum();
        scoring.put("tokens_per_s", tokens / Math.max(r.scoringSeconds(), 1e-9));
        scoring.put("batch_size", cfg.batchSize());
        return root;
    }

    /**
     * report.json's {@code per_source}: the grouping, then per shard set its groups (capped, name order, "(other)"
     * last), each with its counts and every scorer's loss and bits per byte.
     */
    static ObjectNode perSource(EvaluateConfig cfg, Inputs.Checked in, Evaluation.Result r) {
        ObjectNode n = JSON.createObjectNode();
        SourceGroups g = cfg.perSource();
        n.put("group_by", g.groupBy().key());
        n.put("pattern", g.pattern());
        n.put("max_groups", g.maxGroups());
        ArrayNode sets = n.putArray("sets");
        for (int s = 0; s < in.shardSets().size(); s++) {
            SourceGroups.Capped c = r.perSource().get(s);
            ObjectNode set = sets.addObject();
            set.put("shards", in.shardSets().get(s).dir().toString());
            set.put("split", cfg.split());
            set.put("groups_found", c.found());
            set.put("groups_in_other", c.folded());
            ArrayNode groups = set.putArray("groups");
            c.groups().forEach((name, stats) -> {
                ObjectNode one = groups.addObject();
                one.put("group", name);
                LmStats any = stats.get(0);
                one.put("documents", any.documents());
                one.put("tokens", any.tokens());
                one.put("bytes", any.bytes());
                one.put("words", any.words());
                ArrayNode scorers = one.putArray("scorers");
                for (int i = 0; i < stats.size(); i++) {
                    scorers.addObject().put("name", r.scorers().get(i)).put("kind", i < r.checkpoints() ? "checkpoint" : "baseline")
                            .put("nll_sum", stats.get(i).nll()).put("loss", stats.get(i).loss())
                            .put("bits_per_byte", stats.get(i).bitsPerByte());
                }
            });
        }
        return n;
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

    /** report.md: one table per shard set, scorers as columns. */
    public static String markdown(JsonNode report) {
        StringBuilder sb = new StringBuilder();
        sb.append("# kiln evaluate: ").append(report.path("run_name").asText()).append("\n\n");
        sb.append("Started ").append(report.path("started").asText()).append(", finished ").append(report.path("finished").asText())
                .append(". Every number is also in `report.json`.\n\n");
        JsonNode flags = report.path("flags");
        if (flags.isEmpty()) {
            sb.append(report.path("results").path(0).path("scorers").findValues("beats_bigram").isEmpty()
                    ? "No bigram baseline in this run.\n\n" : "Every checkpoint beats the bigram baseline.\n\n");
        } else {
            for (JsonNode f : flags) {
                sb.append("**FLAG:** ").append(f.asText()).append("\n\n");
            }
        }
        for (JsonNode n : report.path("notes")) {
            sb.append("Note: ").append(n.asText()).append(".\n\n");
        }
        String[][] rows = {
                {"loss (nats/token)", "loss"}, {"token perplexity", "token_perplexity"}, {"word perplexity", "word_perplexity"},
                {"byte perplexity", "byte_perplexity"}, {"bits per byte", "bits_per_byte"}};
        for (JsonNode set : report.path("results")) {
            sb.append("## ").append(set.path("shards").asText()).append(" (split ").append(set.path("split").asText()).append(")\n\n");
            sb.append(String.format(Locale.ROOT, "%,d documents, %,d tokens, %,d bytes, %,d words.%n%n",
                    set.path("documents").asLong(), set.path("tokens").asLong(),
                    set.path("bytes").asLong(), set.path("words").asLong()));
            sb.append("| metric |");
            for (JsonNode s : set.path("scorers")) {
                sb.append(' ').append(s.path("name").asText()).append(s.path("kind").asText().equals("baseline") ? " (baseline)" : "").append(" |");
            }
            sb.append("\n|---|");
            set.path("scorers").forEach(s -> sb.append("---:|"));
            sb.append('\n');
            for (String[] row : rows) {
                sb.append("| ").append(row[0]).append(" |");
                for (JsonNode s : set.path("scorers")) {
                    sb.append(String.format(Locale.ROOT, " %.4f |", s.path(row[1]).asDouble()));
                }
                sb.append('\n');
            }
            sb.append("| beats bigram |");
            for (JsonNode s : set.path("scorers")) {
                sb.append(s.has("beats_bigram") ? (s.path("beats_bigram").asBoolean() ? " yes |" : " **no** |") : " |");
            }
            sb.append("\n\n");
        }
        markdownPerSource(report.path("per_source"), sb);
        markdownClassifier(report.path("classifier"), sb);
        markdownGeneration(report.path("generation"), sb);
        sb.append("## Inputs\n\n");
        for (JsonNode c : report.path("inputs").path("checkpoints")) {
            sb.append("- checkpoint `").append(c.path("name").asText()).append("`: ").append(c.path("path").asText())
                    .append(" (step ").append(c.path("step").asLong()).append(", state.json SHA-256 ").append(c.path("state_sha256").asText()).append(")\n");
        }
        for (JsonNode s : report.path("inputs").path("shards")) {
            sb.append("- shards ").append(s.path("path").asText()).append(" (manifest SHA-256 ").append(s.path("manifest_sha256").asText()).append(")\n");
        }
        JsonNode b = report.path("baselines");
        if (b.has("train_tokens")) {
            sb.append(String.format(Locale.ROOT, "- baselines counted on %,d train tokens (%,d distinct bigrams)", b.path("train_tokens").asLong(),
                    b.path("distinct_bigrams").asLong()));
            if (b.has("bigram_discount")) {
                sb.append(String.format(Locale.ROOT, "; Kneser-Ney discounts %.4f (bigram) and %.4f (continuation), %s",
                        b.path("bigram_discount").asDouble(), b.path("continuation_discount").asDouble(), b.path("bigram_discount_method").asText()));
            }
            sb.append('\n');
        }
        JsonNode v = report.path("versions");
        sb.append("- versions: Kiln ").append(v.path("kiln").asText()).append(", Spark ").append(v.path("spark").asText())
                .append(", DL4J ").append(v.path("dl4j").asText()).append(", Java ").append(v.path("java").asText()).append('\n');
        return sb.toString();
    }

    /** Per shard set, one row per source group: counts and every scorer's bits per byte. */
    static void markdownPerSource(JsonNode perSource, StringBuilder sb) {
        if (!perSource.isObject()) {
            return;
        }
        for (JsonNode set : perSource.path("sets")) {
            sb.append("## Per source: ").append(set.path("shards").asText()).append(" (split ").append(set.path("split").asText())
                    .append(", group-by ").append(perSource.path("group_by").asText());
            if (!perSource.path("pattern").asText().isEmpty()) {
                sb.append(" `").append(oneLine(perSource.path("pattern").asText())).append('`');
            }
            sb.append(")\n\n");
            sb.append(String.format(Locale.ROOT, "%d group(s)%s; bits per byte.%n%n", set.path("groups_found").asInt(),
                    set.path("groups_in_other").asInt() > 0 ? ", " + set.path("groups_in_other").asInt() + " of them summed into "
                            + SourceGroups.OTHER : ""));
            JsonNode groups = set.path("groups");
            sb.append("| group | documents | tokens | bytes |");
            for (JsonNode s : groups.path(0).path("scorers")) {
                sb.append(' ').append(cellText(s.path("name").asText())).append(s.path("kind").asText().equals("baseline") ? " (baseline)" : "").append(" |");
            }
            sb.append("\n|---|---:|---:|---:|");
            groups.path(0).path("scorers").forEach(s -> sb.append("---:|"));
            sb.append('\n');
            for (JsonNode g : groups) {
                sb.append("| ").append(cellText(g.path("group").asText())).append(String.format(Locale.ROOT, " | %,d | %,d | %,d |",
                        g.path("documents").asLong(), g.path("tokens").asLong(), g.path("bytes").asLong()));
                for (JsonNode s : g.path("scorers")) {
                    sb.append(String.format(Locale.ROOT, " %.4f |", s.path("bits_per_byte").asDouble()));
                }
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
        if (!classifier.isArray() || classifier.isEmpty()) {
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
        if (!generation.isArray() || generation.isEmpty()) {
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

    /** Writes the three files into a staging folder, then renames it onto {@code target}; an existing target is an error. */
    public static void write(FileSystem fs, Path target, JsonNode report) throws IOException {
        fs.mkdirs(target.getParent());
        Path staging = AtomicOutput.stagingFor(target);
        fs.mkdirs(staging);
        boolean done = false;
        try {
            writeFile(fs, new Path(staging, JSON_FILE), JSON.writeValueAsString(report) + "\n");
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
    public static ObjectNode spark(org.apache.spark.SparkContext sc) {
        ObjectNode n = JSON.createObjectNode();
        n.put("master", sc.master());
        n.put("app_id", sc.applicationId());
        n.put("app_name", sc.appName());
        n.put("default_parallelism", sc.defaultParallelism());
        ArrayNode executors = n.putArray("executors");
        for (org.apache.spark.SparkExecutorInfo e : sc.statusTracker().getExecutorInfos()) {
            executors.add(e.host() + ":" + e.port());
        }
        n.put("executors_note", "as Spark's status tracker lists them when the report is written, the driver included");
        return n;
    }

    /** Kiln and DL4J as built, Spark and Java as run: the lineage's versions in report.json's "versions" shape. */
    static ObjectNode versions(Lineage lineage) {
        ObjectNode v = JSON.createObjectNode();
        v.put("kiln", lineage.kilnVersion());
        v.put("spark", lineage.sparkVersion());
        v.put("dl4j", lineage.build().get("dl4j"));
        v.put("java", lineage.javaVersion());
        return v;
    }
}
