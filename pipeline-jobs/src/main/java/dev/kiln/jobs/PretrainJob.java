package dev.kiln.jobs;

import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * {@code kiln pretrain}: trains the GPT model on the token shards of {@code kiln.train.shards}, in the driver
 * ({@code parallel.workers = 1}) or by parameter averaging over Spark tasks, writing checkpoints and metrics.jsonl
 * under {@code kiln.train.output}. {@code --resume} continues from the newest checkpoint there.
 */
public final class PretrainJob {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainJob.class);

    static final String USAGE = """
            kiln pretrain [--conf FILE] [-Dkiln.train.KEY=VALUE ...] [--resume]
              Trains on kiln.train.shards (a `kiln tokenize` output folder), writes kiln.train.output/checkpoints/step-N/
              and kiln.train.output/metrics.jsonl. --resume continues from the newest checkpoint in kiln.train.output.
              Data-parallel: -Dkiln.train.parallel.workers=N (one Spark task per worker), averaging every
              kiln.train.parallel.average-every steps.""";

    private PretrainJob() {
    }

    public static void main(String[] args) {
        JobRunner.main("pretrain", TrainConfig.SECTION, USAGE, args, TrainConfig::from,
                (spark, cfg, cl) -> {
                    LOG.info("ND4J backend {} ({} devices)", Nd4j.getBackend().getClass().getSimpleName(),
                            Nd4j.getAffinityManager().getNumberOfDevices());
                    Pretrainer.Result r = Pretraining.run(spark, cfg, cl.has("resume"));
                    LOG.info(String.format(Locale.ROOT,
                            "kiln pretrain: steps %d-%d, train loss %.4f, validation loss %.4f, %,.0f tokens/s, "
                                    + "averaging %.1f%% of the time; last checkpoint %s",
                            r.startStep(), r.endStep(), r.lastTrainLoss(), r.lastValidationLoss(), r.tokensPerSecond(),
                            100 * r.averagingShare(), r.lastCheckpoint()));
                });
    }
}
