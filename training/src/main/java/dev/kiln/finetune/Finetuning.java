package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.metrics.ConfusionMatrix;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.MetricsLog;
import dev.kiln.train.WarmupCosineSchedule;
import dev.kiln.train.WarmupLinearSchedule;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.ExampleBatches;
import dev.kiln.train.parallel.EngineConfig;
import dev.kiln.train.parallel.LocalRounds;
import dev.kiln.train.parallel.Replica;
import dev.kiln.train.parallel.ReplicaFactory;
import dev.kiln.train.parallel.RoundRunner;
import dev.kiln.train.parallel.RoundStats;
import dev.kiln.train.parallel.RowFormat;
import dev.kiln.train.parallel.SparkAveraging;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.schedule.ISchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code kiln finetune} with {@code task = classify}: a pre-trained GPT, its LM head replaced by a classification
 * head, trained epoch by epoch on the train split with the pre-training engine ({@link Replica}, {@link LocalRounds}
 * or {@link SparkAveraging}, AdamW, warm-up and decay, global-norm clipping); after each epoch the validation
 * accuracy and macro F1, a checkpoint, the best one kept apart, and early stopping. At the end the best model labels
 * the test split into {@code predictions/}.
 */
public final class Finetuning {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.progress");
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String CHECKPOINT_KEY = FinetuneConfig.SECTION + ".checkpoint";
    /** Documents per forward pass when scoring validation and test. */
    private static final int EVAL_BATCH = 32;

    private Finetuning() {
    }

    /** What a run did. {@code majority}: the test metrics of always predicting the train split's most frequent label. */
    public record Result(List<String> labels, int epochsRun, int bestEpoch, long steps, ClassifierMetrics bestValidation,
                         ClassifierMetrics test, ClassifierMetrics majority, Path bestCheckpoint, Path predictions,
                         LabelledDocuments.Data data) {
    }

    /**
     * The phases of a run, as the README's finetune section tells them: open the parent and its tokenizer, read and
     * split the labelled documents, plan the epochs, start (from the parent, or resume), train epoch by epoch with
     * validation, checkpoints and early stopping, then label the test split with the best checkpoint.
     */
    public static Result run(SparkSession spark, FinetuneConfig cfg, Lineage lineage, boolean resume) throws IOException {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        ParentModel parent = ParentModel.open(cfg, hadoop);
        int t = parent.checkpoint().contextLength();
        LabelledDocuments.Data data = LabelledDocuments.read(spark, cfg, parent.tokenizer().json(), parent.tokenizer().path(), t);
        LOG.info("[finetune] parent {} (context {}), labels {}: train {}, validation {}, test {} documents ({} empty skipped)",
                parent.folder(), t, data.labels(), data.train().size(), data.validation().size(), data.test().size(),
                data.emptyDocuments());
        Plan plan = Plan.of(cfg, data, t);
        RunFolder folder = RunFolder.open(cfg, hadoop, resume);
        Start start = start(cfg, parent, data.labels(), plan, folder, resume);
        EarlyStopping stopping = trainEpochs(spark, cfg, lineage, parent, data, plan, folder, start);
        return labelTheTestSplit(data, plan, folder, stopping, start.global().step());
    }

    /**
     * The training rows (one per window of each train document), the epoch length, the run's length and the class
     * weights ({@code balanced}: from the train split; else null).
     */
    record Plan(int contextLength, List<int[]> trainRows, int stepsPerEpoch, int totalSteps, double[] classWeights) {
        static Plan of(FinetuneConfig cfg, LabelledDocuments.Data data, int t) {
            List<int[]> trainRows = rows(data, data.train(), t);
            if (cfg.windows() > 1) {
                LOG.info("[finetune] {} windows: the train split's {} documents are {} rows of at most {} tokens",
                        cfg.windows(), data.train().size(), trainRows.size(), t);
            }
            int workers = cfg.parallel().workers();
            int stepsPerEpoch = ExampleBatches.stepsPerEpoch(trainRows.size(), workers, cfg.batchSize());
            if (stepsPerEpoch == 0) {
                throw new InvalidConfigException(FinetuneConfig.SECTION + ".batch-size", null, "the train split's "
                        + trainRows.size() + " documents cannot fill one step of " + workers + " workers x " + cfg.batchSize());
            }
            double[] classWeights = cfg.classWeights() == FinetuneConfig.ClassWeights.BALANCED
                    ? balanced(data, data.labels().size()) : null;
            return new Plan(t, trainRows, stepsPerEpoch, stepsPerEpoch * cfg.epochs(), classWeights);
        }
    }

    /** The output folder: checkpoints/, best/ (the best epoch's checkpoint) and metrics.jsonl. */
    record RunFolder(Path output, FileSystem fs, CheckpointStore checkpoints, CheckpointStore best, MetricsLog metrics) {
        static RunFolder open(FinetuneConfig cfg, Configuration hadoop, boolean resume) throws IOException {
            Path output = new Path(cfg.output());
            FileSystem fs = output.getFileSystem(hadoop);
            CheckpointStore checkpoints = new CheckpointStore(fs, new Path(output, "checkpoints"), cfg.checkpointKeep());
            if (!resume) {
                checkpoints.refuseStartOver(FinetuneConfig.SECTION + ".output", "pass --resume");
            }
            return new RunFolder(output, fs, checkpoints, new CheckpointStore(fs, new Path(output, "best"), 1),
                    new MetricsLog(fs, new Path(output, "metrics.jsonl")));
        }
    }

    /** Where training starts: the model (as a replica), its frozen layers, early stopping's state, the resumed checkpoint. */
    record Start(Replica global, List<String> frozen, EarlyStopping stopping, Checkpoint resumed) {
    }

    /** The parent with a new classification head, or (with --resume) the output's newest checkpoint. */
    static Start start(FinetuneConfig cfg, ParentModel parent, List<String> labels, Plan plan, RunFolder folder,
                       boolean resume) throws IOException {
        List<String> frozen = frozenLayers(cfg, parent.checkpoint().shape());
        Optional<Path> existing = folder.checkpoints().latest();
        ComputationGraph model;
        EarlyStopping stopping = new EarlyStopping(0, -1, Double.NEGATIVE_INFINITY, 0);
        Checkpoint resumed = null;
        if (resume && existing.isPresent()) {
            resumed = folder.checkpoints().load(existing.get());
            stopping = resumedStopping(resumed, existing.get(), parent, labels);
            model = resumed.model();
            folder.metrics().resumeAt(resumed.step());
            LOG.info("[finetune] resuming from {} (epoch {}, step {})", existing.get(), stopping.epoch(), resumed.step());
        } else {
            model = ClassifierModel.fromParent(parent.checkpoint().model(), labels.size(), cfg.pooling(), plan.classWeights(),
                    cfg.engine().adam(schedule(cfg, plan.totalSteps())), cfg.optimizer().weightDecay(), cfg.seed(), frozen);
            folder.metrics().resumeAt(-1);
        }
        Replica global = Replica.wrap(model, cfg.engine(), new RowFormat.Labelled(plan.contextLength(), labels.size()), frozen);
        global.setStep(resumed == null ? 0 : resumed.step());
        return new Start(global, frozen, stopping, resumed);
    }

    /** Early stopping's state from a checkpoint of this output, which must be of the same parent and labels. */
    private static EarlyStopping resumedStopping(Checkpoint resumed, Path folder, ParentModel parent, List<String> labels)
            throws IOException {
        JsonNode stage = JSON.readTree(resumed.stageJson() == null ? "{}" : resumed.stageJson());
        List<String> stored = new ArrayList<>();
        stage.path("labels").forEach(n -> stored.add(n.asText()));
        if (!stored.equals(labels) || !parent.checkpoint().modelSha256().equals(stage.path("parent").path("model_sha256").asText())) {
            throw new InvalidConfigException(FinetuneConfig.SECTION + ".output", folder.toString(),
                    "was fine-tuned from parent " + stage.path("parent").path("path").asText() + " with labels " + stored
                            + "; this run has parent " + parent.folder() + " and labels " + labels);
        }
        return new EarlyStopping(stage.path("epoch").asInt(), stage.path("best_epoch").asInt(-1),
                stage.path("best_macro_f1").asDouble(Double.NEGATIVE_INFINITY), stage.path("epochs_without_improvement").asInt());
    }

    /**
     * Epochs on the engine (in this JVM, or averaged over Spark tasks), each followed by validation, a checkpoint
     * (also into best/ when the validation macro F1 improved) and the early-stopping check.
     */
    static EarlyStopping trainEpochs(SparkSession spark, FinetuneConfig cfg, Lineage lineage, ParentModel parent,
                                     LabelledDocuments.Data data, Plan plan, RunFolder folder, Start start) throws IOException {
        EngineConfig engine = cfg.engine();
        Replica global = start.global();
        ComputationGraph model = global.model();
        RowFormat format = new RowFormat.Labelled(plan.contextLength(), data.labels().size());
        ExampleBatches.Factory trainData = ExampleBatches.Factory.of(plan.trainRows(), cfg.seed());
        int workers = cfg.parallel().workers();
        EarlyStopping stopping = start.stopping();
        try (RoundRunner runner = workers == 1 ? new LocalRounds(trainData, engine)
                : new SparkAveraging(spark, engine, new ReplicaFactory.FromConfiguration(model.getConfiguration().toJson(),
                engine, format, start.frozen()), trainData, "finetune")) {
            if (start.resumed() != null) {
                runner.restore(start.resumed().position(), null);
            }
            LOG.info("[finetune] {} parameters ({} frozen layers), {} epochs of {} steps of {} documents on {} worker(s)",
                    model.numParams(), start.frozen().size(), cfg.epochs(), plan.stepsPerEpoch(), engine.globalBatch(), workers);
            while (stopping.epoch() < cfg.epochs() && !stopping.shouldStop(cfg.patience())) {
                trainOneEpoch(runner, global, cfg, plan, folder.metrics(), stopping.epoch());
                stopping = validateAndSave(cfg, lineage, parent, data, plan, folder, global, runner, stopping);
            }
            if (stopping.shouldStop(cfg.patience()) && stopping.epoch() < cfg.epochs()) {
                LOG.info("[finetune] early stop after epoch {}: no better validation macro F1 for {} epochs (best {} at epoch {})",
                        stopping.epoch(), cfg.patience(), stopping.bestF1(), stopping.bestEpoch() + 1);
            }
        }
        return stopping;
    }

    /** Rounds up to the epoch's last step, a train record every log-every steps; the epoch ends with the optimizer state. */
    private static void trainOneEpoch(RoundRunner runner, Replica global, FinetuneConfig cfg, Plan plan, MetricsLog metrics,
                                      int epoch) throws IOException {
        long step = global.step();
        long end = (long) (epoch + 1) * plan.stepsPerEpoch();
        while (step < end) {
            int n = (int) Math.min(end - step, Math.min(runner.maxRoundSteps(), cfg.logEvery() - step % cfg.logEvery()));
            RoundStats s = runner.run(global, n, step + n == end); // each epoch ends with a checkpoint
            step += n;
            if (step % cfg.logEvery() == 0 || step == end) {
                ObjectNode r = metrics.record("train", step);
                r.put("epoch", epoch + 1);
                r.put("loss", s.meanLoss());
                r.put("grad_norm", s.meanGradNorm());
                metrics.append(r);
                LOG.info(String.format(Locale.ROOT, "[finetune] epoch %d step %d/%d loss %.4f |g| %.3f",
                        epoch + 1, step, plan.totalSteps(), s.meanLoss(), s.meanGradNorm()));
            }
        }
    }

    /** The validation split scored, the epoch's checkpoint saved (into best/ too if it improved), early stopping updated. */
    private static EarlyStopping validateAndSave(FinetuneConfig cfg, Lineage lineage, ParentModel parent,
                                                 LabelledDocuments.Data data, Plan plan, RunFolder folder, Replica global,
                                                 RoundRunner runner, EarlyStopping before) throws IOException {
        int epoch = before.epoch();
        long step = global.step();
        MetricsLog metrics = folder.metrics();
        SplitScores v = data.validation().isEmpty() ? null : evaluate(global.model(), data, data.validation(), plan.contextLength());
        boolean improved = v == null || v.metrics().macro().f1() > before.bestF1();
        EarlyStopping stopping = before.after(improved, v == null ? Double.NaN : v.metrics().macro().f1());
        if (v != null) {
            ObjectNode r = metrics.record("validation", step);
            r.put("epoch", epoch + 1);
            putMetrics(r, v, data.labels());
            metrics.append(r);
            LOG.info(String.format(Locale.ROOT, "[finetune] epoch %d validation accuracy %.4f macro F1 %.4f loss %.4f%s",
                    epoch + 1, v.metrics().accuracy(), v.metrics().macro().f1(), v.meanLoss(), improved ? " (best)" : ""));
        }
        String stage = stageJson(cfg, data.labels(), parent, plan.contextLength(), stopping, plan.classWeights());
        Checkpoint c = new Checkpoint(step, global.model(), runner.position(), null, lineage.configJson(),
                parent.tokenizer().sha256(), cfg.parallel().workers(), stage, lineage.toJson().toString());
        Path saved = folder.checkpoints().save(c);
        if (improved) {
            folder.best().save(c);
        }
        ObjectNode r = metrics.record("checkpoint", step);
        r.put("path", saved.toString());
        r.put("best", improved);
        metrics.append(r);
        metrics.flush();
        return stopping;
    }

    /** The best checkpoint labels the test split into predictions/; the test metrics beside the majority class's. */
    static Result labelTheTestSplit(LabelledDocuments.Data data, Plan plan, RunFolder folder, EarlyStopping stopping,
                                    long lastStep) throws IOException {
        int t = plan.contextLength();
        List<String> labels = data.labels();
        ClassifierCheckpoint chosen = ClassifierCheckpoint.load(folder.fs(), folder.best().latest().orElseThrow(), CHECKPOINT_KEY);
        SplitScores test = evaluate(chosen.model(), data, data.test(), t);
        Path predictions = new Path(folder.output(), "predictions");
        writePredictions(folder.fs(), predictions, data.test(), labels, test.probabilities());
        ClassifierMetrics majority = majority(data);
        MetricsLog metrics = folder.metrics();
        ObjectNode r = metrics.record("test", chosen.stage().path("step").asLong(lastStep));
        r.put("checkpoint", chosen.folder().toString());
        putMetrics(r, test, labels);
        r.put("majority_accuracy", majority.accuracy());
        r.put("majority_macro_f1", majority.macro().f1());
        metrics.append(r);
        metrics.flush();
        LOG.info(String.format(Locale.ROOT, "[finetune] test (%d documents, best epoch %d): accuracy %.4f macro F1 %.4f; "
                        + "majority class: accuracy %.4f macro F1 %.4f", test.metrics().n(), stopping.bestEpoch() + 1,
                test.metrics().accuracy(), test.metrics().macro().f1(), majority.accuracy(), majority.macro().f1()));
        ClassifierMetrics bestValidation = data.validation().isEmpty() ? null
                : evaluate(chosen.model(), data, data.validation(), t).metrics();
        return new Result(labels, stopping.epoch(), stopping.bestEpoch(), lastStep, bestValidation, test.metrics(),
                majority, chosen.folder(), predictions, data);
    }

    /** Epochs done, the best epoch (0-based) and its validation macro F1, epochs since it. */
    record EarlyStopping(int epoch, int bestEpoch, double bestF1, int sinceBest) {
        EarlyStopping after(boolean improved, double f1) {
            return improved ? new EarlyStopping(epoch + 1, epoch, Double.isNaN(f1) ? bestF1 : f1, 0)
                    : new EarlyStopping(epoch + 1, bestEpoch, bestF1, sinceBest + 1);
        }

        boolean shouldStop(int patience) {
            return patience > 0 && sinceBest >= patience;
        }
    }

    /**
     * A split scored: its metrics, the mean cross-entropy of the true labels (nats per document), and every
     * document's class probabilities ([documents, classes]).
     */
    record SplitScores(ClassifierMetrics metrics, double meanLoss, double[][] probabilities) {
    }

    /**
     * The metrics of predicted against true class indices into {@code labels}, as {@code kiln evaluate} computes them
     * ({@link ClassifierMetrics}; macro F1 over the labels that are true or predicted at least once).
     */
    static ClassifierMetrics metrics(List<String> labels, int[] truth, int[] predicted) {
        Map<String, Map<String, Long>> counts = new HashMap<>();
        for (int i = 0; i < truth.length; i++) {
            counts.computeIfAbsent(labels.get(truth[i]), x -> new HashMap<>()).merge(labels.get(predicted[i]), 1L, Long::sum);
        }
        return ClassifierMetrics.fromConfusion(ConfusionMatrix.ofCounts(counts), null, Map.of());
    }

    /**
     * Per document: the class probabilities (the mean of its windows'), then accuracy, macro F1 and the mean
     * cross-entropy of those probabilities; in batches of windows, in this JVM.
     */
    static SplitScores evaluate(ComputationGraph model, LabelledDocuments.Data data, List<LabelledDocuments.Example> examples,
                               int t) {
        int classes = data.labels().size();
        int n = examples.size();
        double[][] probabilities = probabilities(model, examples.stream().map(LabelledDocuments.Example::ids).toList(), t);
        int[] truth = new int[n];
        int[] predicted = new int[n];
        double loss = 0;
        for (int d = 0; d < n; d++) {
            double[] pd = probabilities[d];
            int argmax = 0;
            for (int j = 1; j < classes; j++) {
                if (pd[j] > pd[argmax]) {
                    argmax = j;
                }
            }
            truth[d] = data.classIndex(examples.get(d));
            predicted[d] = argmax;
            loss -= Math.log(Math.max(pd[truth[d]], Double.MIN_VALUE));
        }
        return new SplitScores(metrics(data.labels(), truth, predicted), n == 0 ? Double.NaN : loss / n, probabilities);
    }

    /**
     * Class probabilities {@code [n][K]} of documents of 1..(windows x t) kept tokens: the mean of the probabilities
     * of their {@link LabelledDocuments#windows windows}, run in batches of windows.
     */
    static double[][] probabilities(ComputationGraph model, List<int[]> documents, int t) {
        int classes = ClassifierModel.classes(model);
        int n = documents.size();
        List<int[]> rows = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        int[] windows = new int[n];
        for (int d = 0; d < n; d++) {
            for (int[] w : LabelledDocuments.windows(documents.get(d), t)) {
                rows.add(ClassifierModel.row(w, t, 0));
                owner.add(d);
                windows[d]++;
            }
        }
        double[][] probabilities = new double[n][classes];
        for (int from = 0; from < rows.size(); from += EVAL_BATCH) {
            int to = Math.min(rows.size(), from + EVAL_BATCH);
            INDArray p = ClassifierModel.probabilities(model, rows.subList(from, to).toArray(new int[0][]));
            for (int i = from; i < to; i++) {
                double[] pi = p.getRow(i - from).toDoubleVector();
                int d = owner.get(i);
                for (int j = 0; j < classes; j++) {
                    probabilities[d][j] += pi[j] / windows[d];
                }
            }
        }
        return probabilities;
    }

    /** Always predicting the train split's most frequent label, on the test split. */
    static ClassifierMetrics majority(LabelledDocuments.Data data) {
        int classes = data.labels().size();
        int[] counts = new int[classes];
        data.train().forEach(e -> counts[data.classIndex(e)]++);
        int top = 0;
        for (int i = 1; i < classes; i++) {
            if (counts[i] > counts[top]) {
                top = i;
            }
        }
        int[] truth = data.test().stream().mapToInt(data::classIndex).toArray();
        int[] predicted = new int[truth.length];
        Arrays.fill(predicted, top);
        return metrics(data.labels(), truth, predicted);
    }

    /** The training rows: one per window of each document, each with the document's class. */
    static List<int[]> rows(LabelledDocuments.Data data, List<LabelledDocuments.Example> examples, int t) {
        List<int[]> out = new ArrayList<>(examples.size());
        for (LabelledDocuments.Example e : examples) {
            for (int[] w : LabelledDocuments.windows(e.ids(), t)) {
                out.add(ClassifierModel.row(w, t, data.classIndex(e)));
            }
        }
        return out;
    }

    /** n / (K x n_k) from the train split. */
    static double[] balanced(LabelledDocuments.Data data, int k) {
        double[] counts = new double[k];
        data.train().forEach(e -> counts[data.classIndex(e)]++);
        double[] w = new double[k];
        for (int i = 0; i < k; i++) {
            w[i] = data.train().size() / (k * Math.max(1, counts[i]));
        }
        return w;
    }

    static List<String> frozenLayers(FinetuneConfig cfg, GptConfig shape) {
        if (cfg.freezeBlocks() > shape.layers()) {
            throw new InvalidConfigException(FinetuneConfig.SECTION + ".freeze.blocks", null, "the parent has "
                    + shape.layers() + " blocks, cannot freeze " + cfg.freezeBlocks());
        }
        List<String> out = new ArrayList<>();
        if (cfg.freezeEmbeddings()) {
            out.add(GptModel.TOKEN_EMBEDDING);
            out.add(GptModel.POSITION_EMBEDDING);
        }
        for (int i = 0; i < cfg.freezeBlocks(); i++) {
            out.add(GptModel.block(i));
        }
        return out;
    }

    static ISchedule schedule(FinetuneConfig cfg, int totalSteps) {
        EngineConfig.Optimizer o = cfg.optimizer();
        int warmup = Math.min(o.warmupSteps(), totalSteps);
        return cfg.decay() == FinetuneConfig.Decay.COSINE
                ? new WarmupCosineSchedule(o.learningRate(), o.minLearningRate(), warmup, totalSteps)
                : new WarmupLinearSchedule(o.learningRate(), o.minLearningRate(), warmup, totalSteps);
    }

    private static String stageJson(FinetuneConfig cfg, List<String> labels, ParentModel parent, int t, EarlyStopping s,
                                    double[] classWeights) {
        ObjectNode n = JSON.createObjectNode();
        n.put("task", "classify");
        ArrayNode l = n.putArray("labels");
        labels.forEach(l::add);
        n.put("label_source", cfg.labelSource());
        parent.recordIn(n);
        n.put("context_length", t);
        n.put("pooling", cfg.pooling().name().toLowerCase(Locale.ROOT));
        n.put("truncation", cfg.truncation().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        n.put("windows", cfg.windows());
        if (classWeights != null) {
            ArrayNode w = n.putArray("class_weights");
            for (double x : classWeights) {
                w.add(x);
            }
        }
        n.put("epoch", s.epoch());
        n.put("best_epoch", s.bestEpoch());
        n.put("best_macro_f1", s.bestF1());
        n.put("epochs_without_improvement", s.sinceBest());
        return n.toString();
    }

    /** A label neither true nor predicted in a split scores 0 (as it did before the metrics were shared). */
    private static final ClassifierMetrics.ClassStats ABSENT = new ClassifierMetrics.ClassStats(0, 0, 0, 0, 0);

    private static void putMetrics(ObjectNode r, SplitScores s, List<String> labels) {
        ClassifierMetrics m = s.metrics();
        r.put("documents", m.n());
        r.put("accuracy", m.accuracy());
        r.put("macro_f1", m.macro().f1());
        r.put("loss", s.meanLoss());
        ObjectNode per = r.putObject("per_class");
        for (String label : labels) {
            ClassifierMetrics.ClassStats c = m.perClass().getOrDefault(label, ABSENT);
            per.putObject(label).put("precision", c.precision()).put("recall", c.recall()).put("f1", c.f1());
        }
    }

    /** predictions/part-00000.jsonl: id, label, predicted, probabilities per label; then _SUCCESS. */
    static void writePredictions(FileSystem fs, Path dir, List<LabelledDocuments.Example> examples, List<String> labels,
                                 double[][] probabilities) throws IOException {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < examples.size(); i++) {
            ObjectNode n = JSON.createObjectNode();
            n.put("id", examples.get(i).id());
            n.put("label", examples.get(i).label());
            int argmax = 0;
            for (int j = 1; j < probabilities[i].length; j++) {
                if (probabilities[i][j] > probabilities[i][argmax]) {
                    argmax = j;
                }
            }
            n.put("predicted", labels.get(argmax));
            ObjectNode p = n.putObject("probabilities");
            for (int j = 0; j < labels.size(); j++) {
                p.put(labels.get(j), probabilities[i][j]);
            }
            out.append(n).append('\n');
        }
        AtomicOutput.writeString(fs, new Path(dir, "part-00000.jsonl"), out.toString());
        AtomicOutput.writeString(fs, new Path(dir, "_SUCCESS"), "");
    }
}
