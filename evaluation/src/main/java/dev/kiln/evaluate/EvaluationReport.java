package dev.kiln.evaluate;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * report.json as records: {@link Report#write} serializes one, {@link Report#read} reads one back (this schema and
 * every earlier one). Field names are the JSON keys the README documents under "kiln evaluate". The per-scorer
 * numbers are the {@link LmMetric} table's; the training, classifier and generation parts are trees written by
 * {@link TrainingCurves}, {@code ClassifierReport} and {@link GenerationReport} and rendered field by field.
 *
 * @param schemaVersion {@link Report#SCHEMA_VERSION} when written; earlier reports keep theirs
 * @param config        the effective kiln.evaluate section (the same as {@code lineage.config})
 * @param lmEval        the scores in lm-evaluation-harness's results layout: model -> "results" -> task -> fields
 */
@JsonPropertyOrder({"schema_version", "kind", "run_name", "started", "finished", "duration_s", "versions", "config", "lineage", "inputs",
        "baselines", "results", "per_source", "flags", "notes", "lm_eval", "scoring", "spark", "training", "classifier", "generation"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EvaluationReport(
        @JsonProperty("schema_version") int schemaVersion, String kind, @JsonProperty("run_name") String runName,
        String started, String finished, @JsonProperty("duration_s") double durationSeconds, Versions versions,
        JsonNode config, JsonNode lineage, InputList inputs, BaselineCounts baselines, List<ShardSetScores> results,
        @JsonProperty("per_source") PerSourceScores perSource, List<String> flags, List<String> notes,
        @JsonProperty("lm_eval") Map<String, Map<String, Map<String, Map<String, Object>>>> lmEval, Scoring scoring,
        SparkApplication spark, JsonNode training, JsonNode classifier, JsonNode generation) {

    public static final String KIND = "kiln-evaluate-report";

    /** Kiln and DL4J as built, Spark and Java as run. */
    public record Versions(String kiln, String spark, String dl4j, String java) {
    }

    public record InputList(List<CheckpointEntry> checkpoints, List<ShardSetEntry> shards) {
    }

    /** An evaluated checkpoint: its folder and the hashes of what was loaded from it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"name", "path", "step", "tokenizer_sha256", "state_sha256", "model_sha256", "model_bytes"})
    public record CheckpointEntry(String name, String path, long step, @JsonProperty("tokenizer_sha256") String tokenizerSha256,
                                  @JsonProperty("state_sha256") String stateSha256,
                                  @JsonProperty("model_sha256") String modelSha256, @JsonProperty("model_bytes") Long modelBytes) {
    }

    /** A scored shard folder: its manifest and the shards of the scored split (and of train, for the baselines). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"path", "manifest_sha256", "tokenizer_sha256", "vocab_size", "context_length", "split", "shard_files", "rows", "bytes",
            "train_shard_files"})
    public record ShardSetEntry(String path, @JsonProperty("manifest_sha256") String manifestSha256,
                                @JsonProperty("tokenizer_sha256") String tokenizerSha256, @JsonProperty("vocab_size") long vocabSize,
                                @JsonProperty("context_length") long contextLength, String split,
                                @JsonProperty("shard_files") long shardFiles, long rows, Long bytes,
                                @JsonProperty("train_shard_files") Long trainShardFiles) {
    }

    /** What the n-gram baselines were counted on; the counts and discounts are absent when there are none. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"counted_on_split", "train_tokens", "distinct_bigrams", "bigram_discount_method", "bigram_discount",
            "continuation_discount"})
    public record BaselineCounts(@JsonProperty("counted_on_split") String countedOnSplit,
                                 @JsonProperty("train_tokens") Long trainTokens,
                                 @JsonProperty("distinct_bigrams") Long distinctBigrams,
                                 @JsonProperty("bigram_discount_method") String bigramDiscountMethod,
                                 @JsonProperty("bigram_discount") Double bigramDiscount,
                                 @JsonProperty("continuation_discount") Double continuationDiscount) {
    }

    /** One shard folder's scores: its counts and one entry per scorer (checkpoints, then baselines). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"shards", "split", "per_source", "documents", "tokens", "bytes", "words", "scorers"})
    public record ShardSetScores(String shards, String split, @JsonProperty("per_source") Boolean perSource, long documents,
                                 long tokens, long bytes, long words, List<ScorerScores> scorers) {
    }

    /**
     * A scorer's metrics, as flat fields beside its name and kind ({@link LmMetric#key()} -> value; the metrics a
     * place shows, see {@link LmMetric.Place}); {@code beatsBigram} only for checkpoints when a bigram baseline ran.
     */
    public record ScorerScores(String name, String kind, @JsonIgnore Map<LmMetric, Double> metrics, Boolean beatsBigram) {
        public static final String CHECKPOINT = "checkpoint";
        public static final String BASELINE = "baseline";

        public ScorerScores {
            Map<LmMetric, Double> inTableOrder = new EnumMap<>(LmMetric.class);
            inTableOrder.putAll(metrics);
            metrics = Collections.unmodifiableMap(inTableOrder);
        }

        /** The scores of {@code stats} for the metrics of {@code place}. */
        static ScorerScores of(String name, boolean checkpoint, LmStats stats, LmMetric.Place place, Boolean beatsBigram) {
            Map<LmMetric, Double> m = new LinkedHashMap<>();
            LmMetric.shownIn(place).forEach(metric -> m.put(metric, metric.of(stats)));
            return new ScorerScores(name, checkpoint ? CHECKPOINT : BASELINE, m, beatsBigram);
        }

        /** The value of {@code metric}; NaN when this report has none (an older report, or a place without it). */
        public double value(LmMetric metric) {
            return metrics.getOrDefault(metric, Double.NaN);
        }

        public boolean baseline() {
            return BASELINE.equals(kind);
        }

        @JsonAnyGetter
        Map<String, Object> fields() {
            Map<String, Object> out = new LinkedHashMap<>();
            metrics.forEach((m, v) -> out.put(m.key(), v));
            if (beatsBigram != null) {
                out.put("beats_bigram", beatsBigram);
            }
            return out;
        }

        @JsonIgnore
        public Boolean beatsBigram() {
            return beatsBigram;
        }

        /** Reads a scorer object: name, kind, beats_bigram and every key of the metric table that is there. */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static ScorerScores read(Map<String, Object> fields) {
            Map<LmMetric, Double> m = new LinkedHashMap<>();
            for (LmMetric metric : LmMetric.values()) {
                Object v = fields.get(metric.key());
                if (v instanceof Number n) {
                    m.put(metric, n.doubleValue());
                } else if (v instanceof String s) { // NaN and the infinities are written as strings
                    m.put(metric, Double.parseDouble(s));
                }
            }
            Object beats = fields.get("beats_bigram");
            return new ScorerScores((String) fields.get("name"), (String) fields.get("kind"), m,
                    beats instanceof Boolean b ? b : null);
        }
    }

    /** report.json's {@code per_source}: the grouping, then per shard folder its groups. */
    @JsonPropertyOrder({"group_by", "pattern", "max_groups", "sets"})
    public record PerSourceScores(@JsonProperty("group_by") String groupBy, String pattern, @JsonProperty("max_groups") int maxGroups,
                                  List<SourceSetScores> sets) {
    }

    /** One shard folder's groups (capped, name order, "(other)" last). */
    @JsonPropertyOrder({"shards", "split", "groups_found", "groups_in_other", "groups"})
    public record SourceSetScores(String shards, String split, @JsonProperty("groups_found") int groupsFound,
                                  @JsonProperty("groups_in_other") int groupsInOther, List<GroupScores> groups) {
    }

    /** One source group: its counts and every scorer's {@link LmMetric.Place#PER_SOURCE} metrics. */
    public record GroupScores(String group, long documents, long tokens, long bytes, long words, List<ScorerScores> scorers) {
    }

    /** How the scoring ran: plan tasks, forward-pass batches, score tasks, wall time. */
    @JsonPropertyOrder({"rows", "tasks", "batches", "score_tasks", "seconds", "tokens_per_s", "batch_size"})
    public record Scoring(long rows, int tasks, long batches, @JsonProperty("score_tasks") int scoreTasks, double seconds,
                         @JsonProperty("tokens_per_s") double tokensPerSecond, @JsonProperty("batch_size") int batchSize) {
    }

    /** The Spark application the report was computed by. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"master", "app_id", "app_name", "default_parallelism", "executors", "executors_note"})
    public record SparkApplication(String master, @JsonProperty("app_id") String appId, @JsonProperty("app_name") String appName,
                                   @JsonProperty("default_parallelism") Integer defaultParallelism, List<String> executors,
                                   @JsonProperty("executors_note") String executorsNote) {
    }
}
