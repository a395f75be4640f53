package dev.kiln.jobs;

import dev.kiln.hf.InitFrom;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.ResumePolicy;
import dev.kiln.train.TrainConfig;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Map;

/**
 * {@code kiln pretrain}: trains the GPT model on the token shards of {@code kiln.train.shards}, in the driver
 * ({@code parallel.workers = 1}) or by parameter averaging over Spark tasks, writing checkpoints and metrics.jsonl
 * under {@code kiln.train.output}. {@code --resume} continues from the newest checkpoint there.
 */
public final class PretrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainJob.class);

    static final String USAGE = """
            kiln pretrain [--conf FILE] [-Dkiln.train.KEY=VALUE ...] [--resume] [--dry-run] [--break-lock]
              Trains on kiln.train.shards (a `kiln tokenize` output folder), writes kiln.train.output/checkpoints/step-N/
              and kiln.train.output/metrics.jsonl. --resume continues from the newest checkpoint in kiln.train.output.
              -Dkiln.train.resume=auto (for schedulers): start when the output is empty, continue a checkpoint of the same
              run (model and tokenizer), refuse a different run. --dry-run prints the shards, the model and the checkpoint
              it would resume, and writes nothing. One run at a time per output (<output>.lock; --break-lock clears a stale one).
              Data-parallel: -Dkiln.train.parallel.workers=N (one Spark task per worker), averaging every
              kiln.train.parallel.average-every steps.""";

    private PretrainJob() {
    }

    public static void main(String[] args) {
        JobRunner.main(stage(), args);
    }

    static JobRunner.Stage<TrainConfig> stage() {
        return JobRunner.Stage.of("pretrain", TrainConfig.SECTION, USAGE, TrainConfig::from,
                        (spark, cfg, lineage, cl) -> {
                            LOG.info("ND4J backend {} ({} devices)", Nd4j.getBackend().getClass().getSimpleName(),
                                    Nd4j.getAffinityManager().getNumberOfDevices());
                            // kiln.train.init-from: the run starts from a Hugging Face folder's weights.
                            Pretrainer.Continuation from = InitFrom.continuation(cfg, spark.sparkContext().hadoopConfiguration());
                            Pretrainer.Result r = from == null ? Pretraining.run(spark, cfg, lineage, cl.has("resume"))
                                    : Pretraining.run(spark, cfg, lineage, lineage.configJson(), mode(cfg, cl), from);
                            LOG.info(String.format(Locale.ROOT,
                                    "kiln pretrain: steps %d-%d, train loss %.4f, validation loss %.4f, %,.0f tokens/s, "
                                            + "averaging %.1f%% of the time; last checkpoint %s",
                                    r.startStep(), r.endStep(), r.lastTrainLoss(), r.lastValidationLoss(), r.tokensPerSecond(),
                                    100 * r.averagingShare(), r.lastCheckpoint()));
                            return new Outcome(0, false, Map.of("start_step", r.startStep(), "end_step", r.endStep()));
                        })
                .withFlags("resume")
                .lockedOutput(TrainConfig::output, false)
                .withDryRun((cfg, hadoop, cl) -> {
                    Pretrainer.Continuation from = InitFrom.continuation(cfg, hadoop); // checks the folder, shape, tokenizer
                    return Pretraining.plan(cfg, hadoop, mode(cfg, cl))
                            + (from == null ? "" : "  would start from the weights of " + cfg.initFrom() + "\n");
                });
    }

    static ResumePolicy.Mode mode(TrainConfig cfg, CommandLine cl) {
        return cl.has("resume") ? ResumePolicy.Mode.ALWAYS : cfg.resume();
    }
}
