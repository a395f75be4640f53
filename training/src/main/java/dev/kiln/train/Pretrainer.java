package dev.kiln.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.log.Progress;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.parallel.Replica;
import dev.kiln.train.parallel.RoundRunner;
import dev.kiln.train.parallel.RoundStats;
import dev.kiln.train.parallel.RowFormat;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The training loop (nanoGPT's train.py, as one method): rounds of optimizer steps, and at step boundaries the
 * training log, validation loss, checkpoints and metrics. Where the steps run is the {@link RoundRunner}'s business.
 *
 * <p>Round boundaries are a pure function of the step (multiples of the averaging period, the log, validation and
 * checkpoint intervals), so a resumed run averages, logs and validates at the same steps as an uninterrupted one.
 */
public final class Pretrainer {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.progress");

    /** What a run did (this session's part of it, when resumed). */
    public record Result(long startStep, long endStep, double lastTrainLoss, double lastValidationLoss, long tokens,
                         double trainSeconds, double averagingSeconds, Path lastCheckpoint) {
        public double tokensPerSecond() {
            return tokens / Math.max(1e-9, trainSeconds);
        }

        public double averagingShare() {
            return averagingSeconds / Math.max(1e-9, trainSeconds);
        }
    }

    /**
     * A run that continues a parent's language model ({@code kiln finetune}, task causal) instead of a fresh one:
     * {@code initial} holds the parent's weights under this run's optimizer (fresh AdamW state; the step counter
     * starts at 0); {@code frozen} layers keep their weights; {@code original} are validation minibatches of the
     * parent's corpus, measured beside the new one's ({@code "corpus": "new"/"original"} in metrics.jsonl) so that
     * forgetting shows; {@code stageJson} goes into every checkpoint (the parent's path and hash); {@code tag} prefixes
     * the progress lines and {@code outputKey} is the key errors about the output folder name.
     */
    public record Continuation(ComputationGraph initial, List<String> frozen,
                               List<int[][]> original, String stageJson, String tag, String outputKey) {
    }

    private final TrainConfig cfg;
    private final GptConfig shape;
    private final RoundRunner runner;
    private final List<int[][]> validation;
    private final CheckpointStore checkpoints;
    private final MetricsLog metrics;
    private final String configJson;
    private final String lineageJson;
    private final String tokenizerSha256;
    private final Continuation from;
    private final String tag;

    /**
     * {@code configJson}: what checkpoints record under "config" (resume checks the model shape against it);
     * {@code lineage}: the run's lineage, recorded beside it (may be null);
     * {@code from}: the parent to continue, or null for pre-training from fresh weights.
     */
    public Pretrainer(TrainConfig cfg, GptConfig shape, RoundRunner runner, List<int[][]> validation,
                      CheckpointStore checkpoints, MetricsLog metrics, String configJson, Lineage lineage,
                      String tokenizerSha256, Continuation from) {
        this.from = from;
        this.tag = from == null ? "[pretrain]" : from.tag();
        this.cfg = cfg;
        this.shape = shape;
        this.runner = runner;
        this.validation = validation;
        this.checkpoints = checkpoints;
        this.metrics = metrics;
        this.configJson = configJson;
        this.lineageJson = lineage == null ? null : lineage.toJson().toString();
        this.tokenizerSha256 = tokenizerSha256;
    }

    public Result run(boolean resume) throws IOException {
        if (!resume) {
            checkpoints.refuseStartOver(from == null ? "kiln.train.output" : from.outputKey(), "pass --resume");
        }
        Optional<Path> existing = checkpoints.latest();
        Replica global = resume ? resumeFrom(existing) : null;
        if (global == null) {
            global = from == null ? Replica.create(shape, cfg.engine(), cfg.learningRateSchedule()) : wrap(from.initial());
            global.setStep(0);
            metrics.resumeAt(-1);
            if (from != null && !validation.isEmpty()) {
                // The parent's own losses: the baseline the new corpus should fall from and the original should keep.
                lastValidationAt(global, 0);
            }
        }
        long start = global.step();
        long step = start;
        double windowLoss = 0;
        int windowSteps = 0;
        double windowNorm = 0;
        double lastTrain = Double.NaN;
        double lastValidation = Double.NaN;
        long tokens = 0;
        double trainSeconds = 0;
        double averagingSeconds = 0;
        Path lastCheckpoint = null;
        WarmupCosineSchedule lr = cfg.learningRateSchedule();   // the optimizer's, for the logs
        LOG.info("{} {} parameters, {} steps of {} x {} tokens on {} worker(s){}", tag, global.model().numParams(),
                cfg.steps(), cfg.globalBatch(), shape.contextLength(), cfg.parallel().workers(),
                start > 0 ? ", resuming at step " + start : "");

        while (step < cfg.steps()) {
            int n = roundLength(step);
            long t0 = System.nanoTime();
            // The optimizer state must come back only for a checkpoint (the last step, or a checkpoint interval).
            boolean checkpointNext = step + n == cfg.steps() || crossed(step, step + n, cfg.checkpointEvery());
            RoundStats s = runner.run(global, n, checkpointNext);
            double wall = (System.nanoTime() - t0) / 1e9;
            long previous = step;
            step += n;
            tokens += s.tokens();
            trainSeconds += wall;
            averagingSeconds += Math.max(0, wall - s.computeSeconds());
            for (int i = 0; i < n; i++) {
                windowLoss += s.meanLoss(i);
            }
            windowSteps += n;
            windowNorm += s.meanGradNorm() * n;
            boolean last = step == cfg.steps();

            if (crossed(previous, step, cfg.logEvery()) || last) {
                lastTrain = windowLoss / windowSteps;
                double perSecond = tokens / trainSeconds;
                double eta = (cfg.steps() - step) * (trainSeconds / (step - start));
                ObjectNode r = metrics.record("train", step);
                r.put("loss", lastTrain);
                r.put("lr", lr.at(step - 1));
                r.put("grad_norm", windowNorm / windowSteps);
                r.put("tokens", step * (long) cfg.globalBatch() * shape.contextLength());
                r.put("tokens_per_s", perSecond);
                r.put("round_s", wall);
                r.put("averaging_share", averagingSeconds / trainSeconds);
                r.put("eta_s", eta);
                metrics.append(r);
                LOG.info(String.format(Locale.ROOT,
                        "%s step %d/%d loss %.4f lr %.2e |g| %.3f, %,.0f tokens/s, round %.2fs (averaging %.1f%%), ETA %s",
                        tag, step, cfg.steps(), lastTrain, lr.at(step - 1), windowNorm / windowSteps, perSecond, wall,
                        100 * averagingSeconds / trainSeconds, Progress.duration(eta)));
                windowLoss = 0;
                windowNorm = 0;
                windowSteps = 0;
            }
            if (!validation.isEmpty() && (crossed(previous, step, cfg.validationEvery()) || (last && validatesAtEnd()))) {
                lastValidation = lastValidationAt(global, step);
            }
            if ((cfg.checkpointEvery() > 0 && crossed(previous, step, cfg.checkpointEvery())) || last) {
                lastCheckpoint = checkpoints.save(new Checkpoint(step, global.model(), runner.position(),
                        runner.outerState(), configJson, tokenizerSha256, cfg.parallel().workers(),
                        from == null ? null : from.stageJson(), lineageJson));
                ObjectNode r = metrics.record("checkpoint", step);
                r.put("path", lastCheckpoint.toString());
                metrics.append(r);
                LOG.info("{} step {} checkpoint {}", tag, step, lastCheckpoint);
            }
            metrics.flush();
        }
        return new Result(start, step, lastTrain, lastValidation, tokens, trainSeconds, averagingSeconds, lastCheckpoint);
    }

    /**
     * Measures, records and logs the validation loss (a continuation: of the new corpus, then of the original one,
     * each record with its {@code corpus}); returns the (new corpus's) loss.
     */
    private double lastValidationAt(Replica global, long step) {
        double loss = validationLoss(global);
        logValidation(step, loss, from == null ? null : "new");
        if (from != null && !from.original().isEmpty()) {
            logValidation(step, meanLoss(global, from.original()), "original");
        }
        return loss;
    }

    private void logValidation(long step, double loss, String corpus) {
        ObjectNode r = metrics.record("validation", step);
        r.put("loss", loss);
        if (corpus != null) {
            r.put("corpus", corpus);
        }
        metrics.append(r);
        LOG.info(String.format(Locale.ROOT, "%s step %d validation loss %s%.4f (%.3f bits/token)", tag, step,
                corpus == null ? "" : "(" + corpus + " corpus) ", loss, loss / Math.log(2)));
    }

    /** The parent's model under this run's optimizer, with its frozen layers, training on next-token rows. */
    private Replica wrap(ComputationGraph model) {
        return Replica.wrap(model, cfg.engine(), new RowFormat.NextToken(shape.contextLength()), from.frozen());
    }

    /**
     * Whether the last step measures the validation loss: pre-training only when {@code validation.every > 0}
     * ({@code 0} means no validation at all: a user who turns it off to save the pass at the end of a long run gets
     * none); a continuation (causal fine-tune) always, its documented "at step 0 and the end".
     */
    private boolean validatesAtEnd() {
        return cfg.validationEvery() > 0 || from != null;
    }

    /** Mean loss per token over the fixed validation minibatches, with the global weights. */
    public double validationLoss(Replica global) {
        return meanLoss(global, validation);
    }

    private static double meanLoss(Replica global, List<int[][]> batches) {
        double sum = 0;
        long rows = 0;
        for (int[][] batch : batches) {
            sum += GptModel.meanLoss(global.model(), batch) * batch.length;
            rows += batch.length;
        }
        return sum / rows;
    }

    /** Steps until the next round boundary: the next multiple of any interval, or the end. */
    int roundLength(long step) {
        long n = cfg.steps() - step;
        // In one JVM a round lasts a log interval; with averaging, one averaging period (logs fall on round ends).
        long period = runner.maxRoundSteps() == Integer.MAX_VALUE ? cfg.logEvery() : runner.maxRoundSteps();
        n = Math.min(n, untilMultiple(step, period));
        if (cfg.validationEvery() > 0) {
            n = Math.min(n, untilMultiple(step, cfg.validationEvery()));
        }
        if (cfg.checkpointEvery() > 0) {
            n = Math.min(n, untilMultiple(step, cfg.checkpointEvery()));
        }
        return (int) n;
    }

    private static long untilMultiple(long step, long every) {
        return every - (step % every);
    }

    private static boolean crossed(long from, long to, long every) {
        return every > 0 && to / every > from / every;
    }

    private Replica resumeFrom(Optional<Path> latest) throws IOException {
        if (latest.isEmpty()) {
            LOG.info("{} --resume: no checkpoint in {}, starting from step 0", tag, checkpoints.dir());
            return null;
        }
        Checkpoint c = checkpoints.load(latest.get());
        if (tokenizerSha256 != null && c.tokenizerSha256() != null && !tokenizerSha256.equals(c.tokenizerSha256())) {
            throw new IllegalStateException("checkpoint " + latest.get() + " was trained on shards of tokenizer "
                    + c.tokenizerSha256() + ", these shards come from tokenizer " + tokenizerSha256);
        }
        long expected = GptModel.build(shape, new NoOp(), 0, 0,
                DataType.FLOAT).numParams();
        if (c.model().numParams() != expected) {
            throw new IllegalStateException("checkpoint " + latest.get() + " holds a model of " + c.model().numParams()
                    + " parameters; kiln.train.model and the shards describe one of " + expected);
        }
        if (c.step() > cfg.steps()) {
            throw new IllegalStateException("checkpoint " + latest.get() + " is at step " + c.step()
                    + ", beyond kiln.train.steps = " + cfg.steps());
        }
        Replica r = from == null ? Replica.wrap(c.model(), cfg.engine()) : wrap(c.model());
        r.setStep(c.step());
        runner.restore(c.position(), c.outerMomentum());
        metrics.resumeAt(c.step());
        LOG.info("{} resuming from {} (step {})", tag, latest.get(), c.step());
        return r;
    }
}
