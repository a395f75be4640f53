package dev.kiln.jobs;

import dev.kiln.finetune.CausalFinetuning;
import dev.kiln.finetune.FinetuneConfig;
import dev.kiln.finetune.FinetunePlan;
import dev.kiln.finetune.Finetuning;
import dev.kiln.train.Pretrainer;

import java.util.Locale;

/**
 * {@code kiln finetune}: fine-tunes a `kiln pretrain` checkpoint on the labelled documents of a `kiln preprocess`
 * output ({@code kiln.finetune.task = classify}: a classification head; {@code causal}: more language-model training on
 * another token shard set, see {@link CausalFinetuning}), in the driver or by parameter averaging
 * over Spark tasks; writes checkpoints, best/, metrics.jsonl and predictions/ under {@code kiln.finetune.output}.
 * See {@link Finetuning} and reference.conf ({@code kiln.finetune}).
 */
public final class FinetuneJob {
    static final String USAGE = """
            kiln finetune [--conf FILE] [-Dkiln.finetune.KEY=VALUE ...] [--resume] [--dry-run] [--break-lock]
              Fine-tunes kiln.finetune.checkpoint (a `kiln pretrain` checkpoint or output folder) on the documents of
              kiln.finetune.documents (a `kiln preprocess` output), labels from kiln.finetune.label.metadata-key (or
              .column). Writes kiln.finetune.output/{checkpoints,best}/step-N/, metrics.jsonl and predictions/ (the test
              split: id, label, predicted, probabilities). --resume continues from the newest checkpoint there.
              Data-parallel: -Dkiln.finetune.parallel.workers=N.
              -Dkiln.finetune.task=causal: continues language-model training of the checkpoint on
              kiln.finetune.causal.shards (a `kiln tokenize` output made with the checkpoint's tokenizer); writes
              checkpoints/step-N/ and metrics.jsonl (validation loss on the new and the original corpus).
              --dry-run checks the parent checkpoint, its tokenizer and the documents (causal: both corpora) and says
              what a run would do; writes nothing.""";

    private FinetuneJob() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the job and returns its exit status (0 ok, 1 failed, 2 bad arguments, config or input). */
    static int run(String[] args) {
        return JobRunner.run(JobRunner.Stage.of("finetune", FinetuneConfig.SECTION, USAGE, FinetuneConfig::from,
                        (spark, cfg, lineage, cl) -> {
                            if (cfg.task() == FinetuneConfig.Task.CAUSAL) {
                                Pretrainer.Result c = CausalFinetuning.run(spark, cfg, lineage, cl.has("resume"));
                                System.out.println(String.format(Locale.ROOT,
                                        "kiln finetune: causal, steps %d-%d, last train loss %.4f, validation loss "
                                                + "(new corpus) %.4f; last checkpoint %s", c.startStep(), c.endStep(),
                                        c.lastTrainLoss(), c.lastValidationLoss(), c.lastCheckpoint()));
                                return Outcome.none();
                            }
                            Finetuning.Result r = Finetuning.run(spark, cfg, lineage, cl.has("resume"));
                            System.out.println(String.format(Locale.ROOT,
                                    "kiln finetune: labels %s, %d epochs (best %d), test accuracy %.4f, macro F1 %.4f "
                                            + "(majority class %.4f / %.4f); best checkpoint %s, predictions %s",
                                    r.labels(), r.epochsRun(), r.bestEpoch() + 1, r.test().accuracy(), r.test().macro().f1(),
                                    r.majority().accuracy(), r.majority().macro().f1(), r.bestCheckpoint(), r.predictions()));
                            return Outcome.none();
                        })
                .withFlags("resume")
                .lockedOutput(FinetuneConfig::output, false)
                .withDryRun((cfg, hadoop, cl) -> FinetunePlan.plan(cfg, hadoop, cl.has("resume"))), args);
    }
}
