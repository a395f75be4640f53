package dev.kiln.jobs;

import dev.kiln.shards.ShardSchema;
import dev.kiln.tokenize.Tokenize;
import dev.kiln.tokenize.TokenizeConfig;

import java.util.Map;

/**
 * {@code kiln tokenize}: trains (or loads) a byte-level BPE tokenizer and packs the preprocessed documents into Arrow
 * token shards with a manifest. See {@link Tokenize} for the steps and reference.conf ({@code kiln.tokenize}) for
 * the settings.
 */
public final class TokenizeJob {
    static final String USAGE = """
            kiln tokenize [--conf FILE] [-Dkiln.tokenize.KEY=VALUE ...] [--dry-run] [--break-lock]

            Trains a byte-level BPE tokenizer on the documents (or loads kiln.tokenize.tokenizer.path) and writes
            <output>/tokenizer.json, <output>/shards/{train,validation}/*.arrow and <output>/manifest.json.
            Re-running with the same output tokenizes only input files the manifest does not list yet.

              -Dkiln.tokenize.input=DIR         documents: the folder `kiln preprocess` wrote, or Parquet files
              -Dkiln.tokenize.output=DIR        output folder
              -Dkiln.tokenize.context-length=N  tokens per training window (rows hold N + 1)
              -Dkiln.tokenize.tokenizer.vocab-size=N
              --dry-run                         list the preprocess runs / Parquet files a run would tokenize; write nothing
              --break-lock                      remove a stale <output>.lock first (check that its holder is gone)
            One run at a time per output (<output>.lock); <output>/status.json and _SUCCESS report the last attempt.
            """;

    private TokenizeJob() {
    }

    public static void main(String[] args) {
        JobRunner.main(stage(), args);
    }

    static JobRunner.Stage<TokenizeConfig> stage() {
        return JobRunner.Stage.of("tokenize", TokenizeConfig.SECTION, USAGE, TokenizeConfig::from,
                        (spark, cfg, lineage, cl) -> outcome(Tokenize.run(spark, cfg, lineage)))
                .lockedOutput(TokenizeConfig::output, true)
                .withDryRun((cfg, hadoop, cl) -> Tokenize.plan(cfg, hadoop).describe());
    }

    static Outcome outcome(Tokenize.Result r) {
        if (r.upToDate()) {
            return new Outcome(0, true, Map.of());
        }
        return new Outcome(r.run(), false, Map.of("input_files", (long) r.newInputs(), "shards", (long) r.newShards().size(),
                "documents", r.documents(), "train_tokens", r.tokens(ShardSchema.TRAIN),
                "validation_tokens", r.tokens(ShardSchema.VALIDATION)));
    }
}
