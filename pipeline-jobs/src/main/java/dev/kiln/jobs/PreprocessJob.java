package dev.kiln.jobs;

import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code kiln preprocess}: read the raw input files no earlier run read, clean, filter, remove exact and near
 * duplicates (also of documents earlier runs kept), and commit them as a new run: {@code documents/run=NNNN/}
 * (Parquet), {@code index/run=NNNN/} and {@code runs/run=NNNN/} (manifest, stats, removed samples, quarantine).
 */
public final class PreprocessJob {
    static final String USAGE = """
            kiln preprocess [--conf FILE] [-Dkiln.preprocess.KEY=VALUE ...] [--reprocess] [--dry-run] [--break-lock]

            Reads kiln.preprocess.input.paths (text, lines, jsonl[.gz], parquet or raw mail), cleans and filters the
            documents, removes exact and near duplicates (MinHash + LSH), and adds a run to kiln.preprocess.output.path:
              documents/run=NNNN/   Parquet: id, source, text, metadata, hash, cluster_id (Spark reads documents/ as
                                    one table partitioned by run)
              index/run=NNNN/       exact hashes and MinHash signatures of every document kept so far
              runs/run=NNNN/        manifest.json (inputs with SHA-256, files; written last: it commits the run),
                                    stats.json, removed-samples/<reason>.jsonl, quarantine/ (unreadable inputs)
              stats.json            the latest run's stats
            A run reads only input files no earlier run read and drops new documents that duplicate earlier ones; with
            nothing new it writes nothing and exits 0. A processed input that changed or vanished is an error.
              --reprocess           start over: process every input again and replace the output with a new run 1
                                    (same as -Dkiln.preprocess.reprocess=true)
              --dry-run             list the new input files and their sizes and the run they would make; write nothing
              --break-lock          remove a stale <output>.lock first (check that its holder is gone)
            One run at a time per output (<output>.lock); <output>/status.json and _SUCCESS report the last attempt.
            Every key is documented in the preprocessing module's reference.conf.

            Example:
              kiln preprocess --conf conf/demo.conf \\
                -Dkiln.preprocess.input.paths=samples/sotu/*.txt -Dkiln.preprocess.output.path=run/preprocessed
            """;

    private PreprocessJob() {
    }

    public static void main(String[] args) {
        JobRunner.main(stage(), withFlags(args));
    }

    static JobRunner.Stage<PreprocessConfig> stage() {
        return JobRunner.Stage.of("preprocess", PreprocessConfig.SECTION, USAGE, PreprocessConfig::from,
                        (spark, config, lineage, commandLine) -> outcome(PreprocessPipeline.run(spark, config, lineage)))
                .lockedOutput(c -> c.output().path(), true)
                .withDryRun((c, hadoop, cl) -> PreprocessPipeline.plan(c, hadoop).describe(c.reprocess()));
    }

    /** status.json's run and counts from the run's stats. */
    @SuppressWarnings("unchecked")
    static Outcome outcome(Map<String, Object> stats) {
        int run = ((Number) stats.getOrDefault("run", 0)).intValue();
        if (Boolean.TRUE.equals(stats.get("up_to_date"))) {
            return new Outcome(run, true, Map.of());
        }
        Map<String, Long> counts = new TreeMap<>();
        Map<String, Object> input = (Map<String, Object>) stats.getOrDefault("input", Map.of());
        counts.put("input_files", ((Number) input.getOrDefault("files", 0)).longValue());
        counts.put("input_bytes", ((Number) input.getOrDefault("bytes", 0)).longValue());
        Map<String, Object> stages = (Map<String, Object>) stats.getOrDefault("stages", Map.of());
        Map<String, Object> read = (Map<String, Object>) stages.getOrDefault("read", Map.of());
        Map<String, Object> write = (Map<String, Object>) stages.getOrDefault("write", Map.of());
        counts.put("documents_read", ((Number) read.getOrDefault("documents_out", 0)).longValue());
        counts.put("quarantined", ((Number) read.getOrDefault("quarantined", 0)).longValue());
        counts.put("documents_written", ((Number) write.getOrDefault("documents_out", 0)).longValue());
        // Documents the filters kept per language: language_en, language_zh, ...
        Object languages = stats.get("languages");
        if (languages instanceof Map<?, ?> byLanguage) {
            byLanguage.forEach((code, c) -> counts.put("language_" + code,
                    ((Number) ((Map<?, ?>) c).get("documents")).longValue()));
        }
        return new Outcome(run, false, counts);
    }

    /** {@code --reprocess} is {@code -Dkiln.preprocess.reprocess=true}, so the config record stays the one source. */
    static String[] withFlags(String[] args) {
        List<String> out = new ArrayList<>();
        for (String a : args) {
            out.add(a.equals("--reprocess") ? "-D" + PreprocessConfig.SECTION + ".reprocess=true" : a);
        }
        return out.toArray(String[]::new);
    }
}
