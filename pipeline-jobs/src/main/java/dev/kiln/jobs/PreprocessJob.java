package dev.kiln.jobs;

import dev.kiln.config.KilnConfig;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;

/**
 * {@code kiln preprocess}: read a raw corpus, clean, filter, remove exact and near duplicates, and write
 * {@code documents/} (Parquet), {@code stats.json}, {@code removed-samples/} and {@code quarantine/} atomically.
 */
public final class PreprocessJob {
    static final String USAGE = """
            kiln preprocess [--conf FILE] [-Dkiln.preprocess.KEY=VALUE ...]

            Reads kiln.preprocess.input.paths (text, lines, jsonl[.gz], parquet or raw mail), cleans and filters the
            documents, removes exact and near duplicates (MinHash + LSH), and writes to kiln.preprocess.output.path:
              documents/        Parquet: id, source, text, metadata, hash, cluster_id
              stats.json        documents and bytes per stage and filter, duplicate clusters, time per stage
              removed-samples/  <reason>.jsonl: a few removed documents per reason
              quarantine/       JSON lines {path, reason} for unreadable inputs
            Every key is documented in the preprocessing module's reference.conf.

            Example:
              kiln preprocess --conf conf/demo.conf \\
                -Dkiln.preprocess.input.paths=samples/sotu/*.txt -Dkiln.preprocess.output.path=run/preprocessed
            """;

    private PreprocessJob() {
    }

    public static void main(String[] args) {
        JobRunner.main("preprocess", PreprocessConfig.SECTION, USAGE, args, PreprocessConfig::from,
                (spark, config, commandLine) -> PreprocessPipeline.run(spark, config,
                        KilnConfig.renderJson(KilnConfig.load(commandLine), PreprocessConfig.SECTION)));
    }
}
