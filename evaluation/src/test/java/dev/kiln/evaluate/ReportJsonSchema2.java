package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.Lineage;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkExecutorInfo;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The reference for report.json's compatibility: the hand-built writer of schema 2 as it stood before report.json
 * became {@link EvaluationReport} records, kept verbatim (test code only). A test writes the same run with both and
 * compares every key and value.
 */
final class ReportJsonSchema2 {
    static final int SCHEMA_VERSION = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ReportJsonSchema2() {
    }

    /** What Evaluate.run added to {@link #json} before writing: Spark, training curves, classifier, generation. */
    static ObjectNode full(ObjectNode root, ObjectNode spark, JsonNode training,
                           JsonNode classifier, List<String> classifierFlags,
                           JsonNode generation) {
        root.set("spark", spark);
        root.set("training", training);
        if (classifier != null) {
            root.set("classifier", classifier);
            classifierFlags.forEach(root.withArray("flags")::add);
        }
        if (generation != null) {
            root.set("generation", generation);
        }
        return root;
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
            n.put("rows", s.scored().stream().mapToLong(ShardInfo::rows).sum());
            n.put("bytes", s.scored().stream().mapToLong(ShardInfo::bytes).sum());
            n.put("train_shard_files", s.train().size());
        }

        ObjectNode base = root.putObject("baselines");
        base.put("counted_on_split", ShardSchema.TRAIN);
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
        if (cfg.split().equals(ShardSchema.TRAIN) && r.counts() != null) {
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

    /** The Spark application the report was computed by: master, application, parallelism, executors (host:port). */
    public static ObjectNode spark(SparkContext sc) {
        ObjectNode n = JSON.createObjectNode();
        n.put("master", sc.master());
        n.put("app_id", sc.applicationId());
        n.put("app_name", sc.appName());
        n.put("default_parallelism", sc.defaultParallelism());
        ArrayNode executors = n.putArray("executors");
        for (SparkExecutorInfo e : sc.statusTracker().getExecutorInfos()) {
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
