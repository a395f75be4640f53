package dev.kiln.preprocess;

import dev.kiln.preprocess.PreprocessConfig.Keep;
import dev.kiln.preprocess.dedup.ClusterSizes;
import dev.kiln.preprocess.dedup.MinHashConfig;
import dev.kiln.preprocess.filter.FilterConfig;

import java.io.Serializable;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What one {@code kiln preprocess} run did, as written to stats.json: a run that found nothing new
 * ({@link UpToDate}) or one that wrote a run ({@link Written}), with one record per stage of the README's order
 * (read, clean, filter, exact dedup, near dedup, write). Counts are values that add ({@link Counts#plus},
 * {@link Flow#plus}, {@link ClusterSizes#plus}). {@link #toMap} renders the stats.json keys, in their order.
 */
public sealed interface PreprocessStats {
    String JOB = "preprocess";

    /** stats.json's content (without the {@code config} entry, which the job adds), in key order. */
    Map<String, Object> toMap();

    /** Nothing new to read: nothing was written. {@code run}: the last committed run. */
    record UpToDate(String sparkVersion, String output, int run) implements PreprocessStats {
        @Override
        public Map<String, Object> toMap() {
            Map<String, Object> m = header(sparkVersion, output);
            m.put("run", run);
            m.put("up_to_date", true);
            return m;
        }
    }

    /** A committed run. {@code seconds}: wall time of the whole job; {@code cores}: Spark's default parallelism. */
    record Written(String sparkVersion, String output, int run, Input input, ReadStage read, RemovalStage clean,
                   RemovalStage filter, ExactStage exactDedup, NearStage nearDedup, WriteStage write,
                   ClusterSizes duplicateClusters, Index index, double seconds, int cores) implements PreprocessStats {
        @Override
        public Map<String, Object> toMap() {
            Map<String, Object> m = header(sparkVersion, output);
            m.put("run", run);
            m.put("input", input.toMap());
            Map<String, Object> clusters = new LinkedHashMap<>();
            clusters.put("count", duplicateClusters.clusters());
            clusters.put("sizes", sizes(duplicateClusters));
            m.put("duplicate_clusters", clusters);
            Map<String, Object> stages = new LinkedHashMap<>();
            stages.put("read", read.toMap());
            stages.put("clean", clean.toMap());
            stages.put("filter", filter.toMap());
            stages.put("exact_dedup", exactDedup.toMap());
            stages.put("near_dedup", nearDedup.toMap());
            stages.put("write", write.toMap());
            m.put("stages", stages);
            m.put("index", index.toMap());
            m.put("seconds", round(seconds));
            m.put("input_mb_per_second", round(input.bytes() / 1e6 / seconds));
            m.put("cores", cores);
            return m;
        }
    }

    /**
     * stats.json's {@code languages}: per language the filters kept (most documents first), its documents and bytes,
     * which thresholds it ran with ({@code settings}: the language's own, or {@code default}) and which filters were
     * skipped for it.
     */
    static Map<String, Object> languages(Map<String, Counts> kept, FilterConfig filter) {
        Map<String, Object> m = new LinkedHashMap<>();
        kept.entrySet().stream()
                .sorted(Map.Entry.<String, Counts>comparingByValue(Comparator.comparingLong(Counts::documents).reversed())
                        .thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> {
                    Map<String, Object> l = e.getValue().toMap();
                    l.put("settings", filter.byLanguage().containsKey(e.getKey()) ? e.getKey() : "default");
                    l.put("skipped_filters", filter.enabled() ? filter.skipped(e.getKey()) : List.of());
                    m.put(e.getKey(), l);
                });
        return m;
    }

    /** Documents and their bytes (UTF-8). Serializable: Spark adds them up per duplicate reason. */
    record Counts(long documents, long bytes) implements Serializable {
        public static final Counts ZERO = new Counts(0, 0);

        public Counts plus(Counts o) {
            return new Counts(documents + o.documents, bytes + o.bytes);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("documents", documents);
            m.put("bytes", bytes);
            return m;
        }
    }

    /** What went into a stage and what came out of it. */
    record Flow(Counts in, Counts out) {
        public Flow plus(Flow o) {
            return new Flow(in.plus(o.in), out.plus(o.out));
        }

        /** A stage that passes everything on (writing). */
        static Flow through(Counts c) {
            return new Flow(c, c);
        }

        Map<String, Object> toMap(double seconds) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("documents_in", in.documents());
            m.put("bytes_in", in.bytes());
            m.put("documents_out", out.documents());
            m.put("bytes_out", out.bytes());
            m.put("seconds", round(seconds));
            return m;
        }
    }

    /** {@code alreadyProcessedFiles}: listed files that earlier runs read, skipped. */
    record Input(List<String> paths, int files, long bytes, int alreadyProcessedFiles) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("paths", paths);
            m.put("files", files);
            m.put("bytes", bytes);
            m.put("already_processed_files", alreadyProcessedFiles);
            return m;
        }
    }

    /**
     * Reading: input files and bytes in, documents and their bytes out. {@code seconds}: the read, clean and filter
     * pass (one pass, so the three stages share it); {@code taskSeconds}: time the tasks spent reading.
     */
    record ReadStage(Flow flow, double seconds, double taskSeconds, long quarantined) {
        Map<String, Object> toMap() {
            Map<String, Object> m = flow.toMap(seconds);
            m.put("task_seconds", round(taskSeconds));
            m.put("quarantined", quarantined);
            return m;
        }
    }

    /**
     * Cleaning or filtering: {@code removed} per removal reason, in pipeline order, zeros included; {@code steps}: what
     * each of the stage's steps did, in pipeline order.
     */
    record RemovalStage(Flow flow, double seconds, double taskSeconds, Map<String, Counts> removed, List<Step> steps) {
        public RemovalStage {
            removed = Collections.unmodifiableMap(new LinkedHashMap<>(removed));
            steps = List.copyOf(steps);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = flow.toMap(seconds);
            m.put("task_seconds", round(taskSeconds));
            m.put("removed", removedMap(removed));
            Map<String, Object> byStep = new LinkedHashMap<>();
            steps.forEach(st -> byStep.put(st.name(), st.toMap()));
            m.put("steps", byStep);
            return m;
        }
    }

    /**
     * One step of the per-document pipeline: the documents that reached it and that it kept, what it dropped per
     * reason (a filter drops under its own name, zeros included; a cleaner drops nothing, so none), and
     * {@code taskSeconds}, the time it ran summed over the tasks.
     */
    record Step(String name, long documentsIn, long documentsKept, Map<String, Counts> dropped, double taskSeconds) {
        public Step {
            dropped = Collections.unmodifiableMap(new LinkedHashMap<>(dropped));
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("documents_in", documentsIn);
            m.put("documents_kept", documentsKept);
            m.put("dropped", removedMap(dropped));
            // to the microsecond: a cheap step over a small corpus runs well under a millisecond in all
            m.put("task_seconds", Math.round(taskSeconds * 1e6) / 1e6);
            return m;
        }
    }

    /** Exact dedup: {@code groups}: this run's groups of identical documents by size. */
    record ExactStage(Flow flow, double seconds, Map<String, Counts> removed, boolean enabled, ClusterSizes groups) {
        public ExactStage {
            removed = Collections.unmodifiableMap(new LinkedHashMap<>(removed));
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = flow.toMap(seconds);
            m.put("removed", removedMap(removed));
            m.put("enabled", enabled);
            m.put("duplicate_clusters", groups.clusters());
            m.put("cluster_sizes", sizes(groups));
            return m;
        }
    }

    /** What near dedup found, when it ran (see NearDuplicates.Result). */
    record NearFindings(long candidatePairs, long similarPairs, long oversizedBuckets, int componentsRounds,
                        long earlierCandidatePairs, long earlierSimilarPairs, ClusterSizes clusters) {
    }

    /** Near dedup with its MinHash settings; {@code findings} is empty when near dedup is disabled. */
    record NearStage(Flow flow, double seconds, Map<String, Counts> removed, boolean enabled, MinHashConfig minhash,
                     Optional<NearFindings> findings) {
        public NearStage {
            removed = Collections.unmodifiableMap(new LinkedHashMap<>(removed));
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = flow.toMap(seconds);
            m.put("removed", removedMap(removed));
            m.put("enabled", enabled);
            m.put("shingles", minhash.ngram().name().toLowerCase(Locale.ROOT) + " " + minhash.ngramSize() + "-grams");
            if (minhash.ngram() == MinHashConfig.Shingling.WORD) {
                m.put("unspaced_shingles", "dictionary word " + minhash.unspacedNgramSize() + "-grams");
            }
            m.put("permutations", minhash.permutations());
            m.put("bands", minhash.bands());
            m.put("rows", minhash.rows());
            m.put("threshold", minhash.threshold());
            m.put("verify", minhash.verify());
            findings.ifPresent(f -> {
                m.put("candidate_pairs", f.candidatePairs());
                m.put("similar_pairs", f.similarPairs());
                m.put("oversized_buckets", f.oversizedBuckets());
                m.put("components_rounds", f.componentsRounds());
                m.put("earlier_candidate_pairs", f.earlierCandidatePairs());
                m.put("earlier_similar_pairs", f.earlierSimilarPairs());
                m.put("duplicate_clusters", f.clusters().clusters());
                m.put("cluster_sizes", sizes(f.clusters()));
            });
            return m;
        }
    }

    /** Writing: the documents written, in {@code files} Parquet files; removed samples written per reason. */
    record WriteStage(Counts written, double seconds, int files, Keep keep, Map<String, Long> removedSamples) {
        public WriteStage {
            removedSamples = Collections.unmodifiableMap(new LinkedHashMap<>(removedSamples));
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = Flow.through(written).toMap(seconds);
            m.put("files", files);
            m.put("keep", keep.name().toLowerCase(Locale.ROOT));
            m.put("removed_samples", removedSamples);
            return m;
        }
    }

    /** Documents in the dedup index before and after this run. */
    record Index(long documentsBefore, long documentsAfter) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("documents_before", documentsBefore);
            m.put("documents_after", documentsAfter);
            return m;
        }
    }

    private static Map<String, Object> header(String sparkVersion, String output) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("job", JOB);
        m.put("spark_version", sparkVersion);
        m.put("output", output);
        return m;
    }

    private static Map<String, Object> removedMap(Map<String, Counts> removed) {
        Map<String, Object> m = new LinkedHashMap<>();
        removed.forEach((reason, c) -> m.put(reason, c.toMap()));
        return m;
    }

    private static Map<String, Long> sizes(ClusterSizes c) {
        return new LinkedHashMap<>(c.clustersBySize());
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
