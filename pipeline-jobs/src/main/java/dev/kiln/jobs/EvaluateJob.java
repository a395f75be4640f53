package dev.kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.kiln.config.KilnConfig;
import dev.kiln.evaluate.Evaluate;
import dev.kiln.evaluate.EvaluateConfig;

/**
 * {@code kiln evaluate}: scores one or more checkpoints on token shards across the cluster, next to n-gram
 * baselines, and writes {@code <output>/<run-name>/report.json} and {@code report.md}. See {@link Evaluate} and
 * the evaluation module's reference.conf ({@code kiln.evaluate}).
 */
public final class EvaluateJob {
    static final String USAGE = """
            kiln evaluate [--conf FILE] [-Dkiln.evaluate.KEY=VALUE ...]

            Scores checkpoints on the shards of one split and writes <output>/<run-name>/report.json and report.md:
            loss (nats/token), token perplexity, word_perplexity, byte_perplexity and bits_per_byte (lm-evaluation-
            harness's definitions), next to uniform, add-one unigram and Kneser-Ney bigram baselines counted on the
            train split. A report folder that already exists is an error.

              -Dkiln.evaluate.checkpoints=[DIR,...]  step-N checkpoint folders, or `kiln pretrain` output folders (newest)
              -Dkiln.evaluate.shards=[DIR,...]       `kiln tokenize` output folders
              -Dkiln.evaluate.split=validation       or train
              -Dkiln.evaluate.output=DIR             reports folder; -Dkiln.evaluate.run-name=NAME names this report
            """;

    private EvaluateJob() {
    }

    /** The typed settings plus their JSON rendering (recorded in report.json). */
    record Loaded(EvaluateConfig config, JsonNode json) {
        static Loaded from(Config c) {
            EvaluateConfig typed = EvaluateConfig.from(c);
            try {
                return new Loaded(typed, new ObjectMapper().readTree(KilnConfig.renderJson(c, EvaluateConfig.SECTION)));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return config.toString();
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The job's exit status: 0 done, 1 failed, 2 bad configuration or inputs (nothing written). */
    static int run(String[] args) {
        return JobRunner.run("evaluate", EvaluateConfig.SECTION, USAGE, args, Loaded::from,
                (spark, loaded, cl) -> Evaluate.run(spark, loaded.config(), loaded.json()));
    }
}
