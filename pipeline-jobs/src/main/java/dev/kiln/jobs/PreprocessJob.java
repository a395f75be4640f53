package dev.kiln.jobs;

import dev.kiln.config.KilnConfig;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;

/**
 * {@code kiln preprocess}: read the raw input files no earlier run read, clean, filter, remove exact and near
 * duplicates (also of documents earlier runs kept), and commit them as a new run: {@code documents/run=NNNN/}
 * (Parquet), {@code index/run=NNNN/} and {@code runs/run=NNNN/} (manifest, stats, removed samples, quarantine).
 */
public final class PreprocessJob {
    static final String USAGE = """
            kiln preprocess [--conf FILE] [-Dkiln.preprocess.KEY=VALUE ...] [--reprocess]

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
            Every key is documented in the preprocessing module's reference.conf.

            Example:
              kiln preprocess --conf conf/demo.conf \\
                -Dkiln.preprocess.input.paths=samples/sotu/*.txt -Dkiln.preprocess.output.path=run/preprocessed
            """;

    private PreprocessJob() {
    }

    public static void main(String[] args) {
        JobRunner.main("preprocess", PreprocessConfig.SECTION, USAGE, withFlags(args), PreprocessConfig::from,
                (spark, config, commandLine) -> PreprocessPipeline.run(spark, config,
                        KilnConfig.renderJson(KilnConfig.load(commandLine), PreprocessConfig.SECTION)));
    }

    /** {@code --reprocess} is {@code -Dkiln.preprocess.reprocess=true}, so the config record stays the one source. */
    static String[] withFlags(String[] args) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String a : args) {
            out.add(a.equals("--reprocess") ? "-D" + PreprocessConfig.SECTION + ".reprocess=true" : a);
        }
        return out.toArray(String[]::new);
    }
}
