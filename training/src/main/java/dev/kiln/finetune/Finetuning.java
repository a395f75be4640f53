package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.generate.GenerationCheckpoint;
import dev.kiln.hf.HfParent;
import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.metrics.ConfusionMatrix;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.MetricsLog;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.WarmupCosineSchedule;
import dev.kiln.train.WarmupLinearSchedule;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.ExampleBatches;
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
import org.nd4j.linalg.learning.config.Adam;
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

    public static Result run(SparkSession spark, FinetuneConfig cfg, Lineage lineage, boolean resume) throws IOException {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        GenerationCheckpoint parent = HfParent.open(cfg.checkpoint(), cfg.tokenizer(), null,
                FinetuneConfig.SECTION, hadoop);
        String parentSha = parent.modelSha256();
        int t = parent.contextLength();
        LabelledDocuments.Data data = LabelledDocuments.read(spark, cfg, parent.tokenizerJson(), parent.tokenizerPath(), t);
        List<String> labels = data.labels();
        int k = labels.size();
        LOG.info("[finetune] parent {} (context {}), labels {}: train {}, validation {}, test {} documents ({} empty skipped)",
                parent.folder(), t, labels, data.train().size(), data.validation().size(), data.test().size(),
                data.emptyDocuments());

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
        int totalSteps = stepsPerEpoch * cfg.epochs();
        TrainConfig engine = cfg.engine(totalSteps);
        double[] classWeights = cfg.classWeights() == FinetuneConfig.ClassWeights.BALANCED ? balanced(data, k) : null;

        Path output = new Path(cfg.output());
        FileSystem outFs = output.getFileSystem(hadoop);
        CheckpointStore checkpoints = new CheckpointStore(outFs, new Path(output, "checkpoints"), cfg.checkpointKeep());
        CheckpointStore best = new CheckpointStore(outFs, new Path(output, "best"), 1);
        MetricsLog metrics = new MetricsLog(outFs, new Path(output, "metrics.jsonl"));
        if (!resume) {
            checkpoints.refuseStartOver(FinetuneConfig.SECTION + ".output", "pass --resume");
        }
        Optional<Path> existing = checkpoints.latest();

        ComputationGraph parentModel = GenerationCheckpoint.restore(parent.modelZip());
        GptConfig shape = GptModel.shapeOf(parentModel);
        List<String> frozen = frozenLayers(cfg, shape);
        ComputationGraph model;
        ExampleBatches.Factory trainData = ExampleBatches.Factory.of(trainRows, cfg.seed());
        EarlyStopping stopping = new EarlyStopping(0, -1, Double.NEGATIVE_INFINITY, 0);
        Checkpoint resumed = null;
        if (resume && existing.isPresent()) {
            resumed = checkpoints.load(existing.get());
            JsonNode stage = JSON.readTree(resumed.stageJson() == null ? "{}" : resumed.stageJson());
            List<String> stored = new ArrayList<>();
            stage.path("labels").forEach(n -> stored.add(n.asText()));
            if (!stored.equals(labels) || !parentSha.equals(stage.path("parent").path("model_sha256").asText())) {
                throw new InvalidConfigException(FinetuneConfig.SECTION + ".output", existing.get().toString(),
                        "was fine-tuned from parent " + stage.path("parent").path("path").asText() + " with labels " + stored
                                + "; this run has parent " + parent.folder() + " and labels " + labels);
            }
            stopping = new EarlyStopping(stage.path("epoch").asInt(), stage.path("best_epoch").asInt(-1),
                    stage.path("best_macro_f1").asDouble(Double.NEGATIVE_INFINITY), stage.path("epochs_without_improvement").asInt());
            model = resumed.model();
            metrics.resumeAt(resumed.step());
            LOG.info("[finetune] resuming from {} (epoch {}, step {})", existing.get(), stopping.epoch(), resumed.step());
        } else {
            Adam adam = Adam.builder().learningRateSchedule(schedule(cfg, totalSteps)).beta1(cfg.optimizer().beta1())
                    .beta2(cfg.optimizer().beta2()).epsilon(cfg.optimizer().epsilon()).build();
            model = ClassifierModel.fromParent(parentModel, k, cfg.pooling(), classWeights, adam,
                    cfg.optimizer().weightDecay(), cfg.seed(), frozen);
            metrics.resumeAt(-1);
        }
        RowFormat format = new RowFormat.Labelled(t, k);
        Replica global = Replica.wrap(model, engine, format, frozen);
        global.setStep(resumed == null ? 0 : resumed.step());

        String tokenizerSha = FileHashes.sha256(parent.tokenizerJson());
        try (RoundRunner runner = workers == 1 ? new LocalRounds(trainData, engine)
                : new SparkAveraging(spark, engine, new ReplicaFactory.FromConfiguration(model.getConfiguration().toJson(),
                engine, format, frozen), trainData, "finetune")) {
            if (resumed != null) {
                runner.restore(resumed.position(), null);
            }
            LOG.info("[finetune] {} parameters ({} frozen layers), {} epochs of {} steps of {} documents on {} worker(s)",
                    model.numParams(), frozen.size(), cfg.epochs(), stepsPerEpoch, engine.globalBatch(), workers);
            long step = global.step();
            while (stopping.epoch() < cfg.epochs() && !stopping.shouldStop(cfg.patience())) {
                int epoch = stopping.epoch();
                long end = (long) (epoch + 1) * stepsPerEpoch;
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
                                epoch + 1, step, totalSteps, s.meanLoss(), s.meanGradNorm()));
                    }
                }
                SplitScores v = data.validation().isEmpty() ? null : evaluate(global.model(), data, data.validation(), t);
                boolean improved = v == null || v.metrics().macro().f1() > stopping.bestF1();
                stopping = stopping.after(improved, v == null ? Double.NaN : v.metrics().macro().f1());
                if (v != null) {
                    ObjectNode r = metrics.record("validation", step);
                    r.put("epoch", epoch + 1);
                    putMetrics(r, v, labels);
                    metrics.append(r);
                    LOG.info(String.format(Locale.ROOT, "[finetune] epoch %d validation accuracy %.4f macro F1 %.4f loss %.4f%s",
                            epoch + 1, v.metrics().accuracy(), v.metrics().macro().f1(), v.meanLoss(), improved ? " (best)" : ""));
                }
                String stage = stageJson(cfg, labels, parent, parentSha, t, stopping, classWeights);
                Checkpoint c = new Checkpoint(step, global.model(), runner.position(), null, lineage.configJson(), tokenizerSha,
                        workers, stage, lineage.toJson().toString());
                Path saved = checkpoints.save(c);
                if (improved) {
                    best.save(c);
                }
                ObjectNode r = metrics.record("checkpoint", step);
                r.put("path", saved.toString());
                r.put("best", improved);
                metrics.append(r);
                metrics.flush();
            }
            if (stopping.shouldStop(cfg.patience()) && stopping.epoch() < cfg.epochs()) {
                LOG.info("[finetune] early stop after epoch {}: no better validation macro F1 for {} epochs (best {} at epoch {})",
                        stopping.epoch(), cfg.patience(), stopping.bestF1(), stopping.bestEpoch() + 1);
            }
        }

        // The test split, labelled by the best checkpoint.
        ClassifierCheckpoint chosen = ClassifierCheckpoint.load(outFs, best.latest().orElseThrow(), CHECKPOINT_KEY);
        SplitScores test = evaluate(chosen.model(), data, data.test(), t);
        Path predictions = new Path(output, "predictions");
        writePredictions(outFs, predictions, data.test(), labels, test.probabilities());
        ClassifierMetrics majority = majority(data);
        ObjectNode r = metrics.record("test", chosen.stage().path("step").asLong(global.step()));
        r.put("checkpoint", chosen.folder().toString());
        putMetrics(r, test, labels);
        r.put("majority_accuracy", majority.accuracy());
        r.put("majority_macro_f1", majority.macro().f1());
        metrics.append(r);
        metrics.flush();
        LOG.info(String.format(Locale.ROOT, "[finetune] test (%d documents, best epoch %d): accuracy %.4f macro F1 %.4f; "
                        + "majority class: accuracy %.4f macro F1 %.4f", test.metrics().n(), stopping.bestEpoch() + 1,
                test.metrics().accuracy(), test.metrics().macro().f1(), majority.accuracy(), majority.macro().f1()));
        ClassifierMetrics bestValidation = null;
        if (!data.validation().isEmpty()) {
            bestValidation = evaluate(chosen.model(), data, data.validation(), t).metrics();
        }
        return new Result(labels, stopping.epoch(), stopping.bestEpoch(), global.step(), bestValidation, test.metrics(),
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
        FinetuneConfig.Optimizer o = cfg.optimizer();
        int warmup = Math.min(o.warmupSteps(), totalSteps);
        return o.decay() == FinetuneConfig.Decay.COSINE
                ? new WarmupCosineSchedule(o.learningRate(), o.minLearningRate(), warmup, totalSteps)
                : new WarmupLinearSchedule(o.learningRate(), o.minLearningRate(), warmup, totalSteps);
    }

    private static String stageJson(FinetuneConfig cfg, List<String> labels, GenerationCheckpoint parent, String parentSha,
                                    int t, EarlyStopping s, double[] classWeights) {
        ObjectNode n = JSON.createObjectNode();
        n.put("task", "classify");
        ArrayNode l = n.putArray("labels");
        labels.forEach(l::add);
        n.put("label_source", cfg.labelSource());
        ObjectNode p = n.putObject("parent");
        p.put("path", parent.folder());
        p.put("step", parent.step());
        p.put("model_sha256", parentSha);
        p.put("format", parent.imported() ? "huggingface" : "kiln"); // imported: model_sha256 is of its model.safetensors
        n.put("tokenizer_path", parent.tokenizerPath());
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
