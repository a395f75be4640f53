package dev.kiln.evaluate.classify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.metrics.Curves;
import dev.kiln.metrics.Prediction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.col;

/**
 * The classifier part of {@code kiln evaluate}: every fine-tuned model's test predictions (the JSONL
 * {@code kiln finetune} writes) scored by {@link ClassifierMetrics}, next to the {@link BaselineClassifiers}
 * trained once on the same documents and split. A fine-tuned model whose macro-F1 is not above TF-IDF + logistic
 * regression's is flagged. Bad input (a missing file, a line that is not a prediction, a label the documents do
 * not have) is an {@link InvalidConfigException} naming the key and the path.
 */
public final class ClassifierReport {
    static final String KEY = "kiln.evaluate.classifier.predictions";
    static final String DOCUMENTS_KEY = "kiln.evaluate.classifier.documents";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClassifierReport() {
    }

    /** One predictions file of a model. */
    public record PredictionsFile(Path path, List<Prediction> predictions) {
    }

    /** One model's predictions: a file, or the part files of a folder. */
    public record PredictionSet(String name, Path path, List<PredictionsFile> files) {
        public List<Prediction> predictions() {
            List<Prediction> out = new ArrayList<>();
            files.forEach(f -> out.addAll(f.predictions()));
            out.sort(Comparator.comparing(Prediction::id));
            return out;
        }
    }

    /** What was scored: the fine-tuned models' metrics (config order) and the baselines. */
    public record Result(List<PredictionSet> sets, List<ClassifierMetrics> metrics, BaselineClassifiers.Result baselines,
                         List<String> documentLabels) {
    }

    /** Reads every predictions entry in the driver (before any Spark job): missing and malformed files are errors. */
    public static List<PredictionSet> read(List<String> locations, Configuration hadoop) throws IOException {
        List<PredictionSet> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String location : locations) {
            Path given = new Path(location);
            FileSystem fs = given.getFileSystem(hadoop);
            given = fs.makeQualified(given);
            if (!fs.exists(given)) {
                throw new InvalidConfigException(KEY, null, "the predictions " + given + " do not exist; expected a JSONL file or a "
                        + "folder of part files written by `kiln finetune`");
            }
            List<Path> files = files(fs, given);
            List<PredictionsFile> read = new ArrayList<>();
            for (Path f : files) {
                try {
                    read.add(new PredictionsFile(f, PredictionsJsonl.read(fs, f)));
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(KEY, null, e.getMessage());
                }
            }
            if (read.stream().allMatch(f -> f.predictions().isEmpty())) {
                throw new InvalidConfigException(KEY, null, "the predictions " + given + " hold no predictions ("
                        + files.size() + " file(s))");
            }
            Set<String> ids = new HashSet<>();
            for (PredictionsFile f : read) {
                for (Prediction p : f.predictions()) {
                    if (!ids.add(p.id())) {
                        throw new InvalidConfigException(KEY, null, f.path() + ": document " + p.id()
                                + " is predicted twice in " + given + "; expected one prediction per test document");
                    }
                }
            }
            // "predictions" says nothing: name a folder of that name after its parent (the fine-tune's output folder).
            String base = given.getName().equals("predictions") && given.getParent() != null
                    ? given.getParent().getName() + "/" + given.getName() : given.getName();
            String name = base;
            for (int i = 2; !names.add(name); i++) {
                name = base + "#" + i;
            }
            out.add(new PredictionSet(name, given, read));
        }
        return out;
    }

    /**
     * A file as given; else the *.jsonl and part-* files, sorted, of the folder's predictions/ folder when it has one
     * (a `kiln finetune` output, whose own metrics.jsonl is not predictions), else of the folder itself.
     */
    static List<Path> files(FileSystem fs, Path given) throws IOException {
        if (fs.getFileStatus(given).isFile()) {
            return List.of(given);
        }
        for (Path dir : List.of(new Path(given, "predictions"), given)) {
            if (!fs.exists(dir) || !fs.getFileStatus(dir).isDirectory()) {
                continue;
            }
            List<Path> parts = new ArrayList<>();
            for (FileStatus s : fs.listStatus(dir)) {
                String n = s.getPath().getName();
                if (s.isFile() && !n.startsWith(".") && !n.startsWith("_") && (n.endsWith(".jsonl") || n.startsWith("part-"))) {
                    parts.add(s.getPath());
                }
            }
            if (!parts.isEmpty()) {
                parts.sort(Comparator.comparing(Path::getName));
                return parts;
            }
        }
        throw new InvalidConfigException(KEY, null, "the folder " + given + " holds no *.jsonl or part-* files (nor does "
                + new Path(given, "predictions") + "); expected the predictions `kiln finetune` writes");
    }

    /**
     * The documents/ table of a `kiln preprocess` output folder (as `kiln finetune` takes it), or the folder itself
     * when it is the table.
     */
    static String documentsFolder(String given, Configuration hadoop) {
        try {
            Path p = new Path(given);
            Path inner = new Path(p, "documents");
            return p.getFileSystem(hadoop).isDirectory(inner) ? inner.toString() : given;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The documents folder must exist before any Spark job runs. */
    public static void checkDocuments(String documents, Configuration hadoop) throws IOException {
        Path p = new Path(documents);
        if (!p.getFileSystem(hadoop).exists(p)) {
            throw new InvalidConfigException(DOCUMENTS_KEY, null, "the documents folder " + p + " does not exist; expected the "
                    + "`kiln preprocess` documents/ folder the fine-tune was trained on");
        }
    }

    /**
     * Checks the predictions' labels against the documents' (one small Spark job), then trains and scores the
     * baselines and scores every model.
     */
    public static Result run(SparkSession spark, String documentsOrOutput, ClassifyConfig cfg, List<PredictionSet> sets) {
        String documents = documentsFolder(documentsOrOutput, spark.sparkContext().hadoopConfiguration());
        List<String> labels = new ArrayList<>();
        try {
            for (Row r : spark.read().parquet(documents).select(col("metadata").getItem(cfg.labelField()).as("label"))
                    .filter(col("label").isNotNull()).distinct().collectAsList()) {
                labels.add(r.getString(0));
            }
        } catch (RuntimeException e) {
            throw new InvalidConfigException(DOCUMENTS_KEY, null, "cannot read " + documents + " as the Parquet documents of "
                    + "`kiln preprocess` (columns id, text, metadata, cluster_id): " + e.getMessage());
        }
        labels.sort(null);
        if (labels.isEmpty()) {
            throw new InvalidConfigException(DOCUMENTS_KEY, null, "no document in " + documents + " has the label field \""
                    + cfg.labelField() + "\" (kiln.evaluate.classify.label-field) in its metadata");
        }
        Set<String> known = new TreeSet<>(labels);
        for (PredictionSet set : sets) {
            for (PredictionsFile f : set.files()) {
                for (Prediction p : f.predictions()) {
                    Set<String> used = new TreeSet<>(p.probabilities().keySet());
                    used.add(p.label());
                    used.add(p.predicted());
                    used.removeAll(known);
                    if (!used.isEmpty()) {
                        throw new InvalidConfigException(KEY, null, f.path() + ": prediction " + p.id() + " has the label(s) " + used
                                + ", which no document of " + documents + " has; expected labels among " + known);
                    }
                }
            }
        }
        BaselineClassifiers.Result baselines;
        List<ClassifierMetrics> metrics = new ArrayList<>();
        try {
            baselines = BaselineClassifiers.run(spark, documents, cfg);
            for (PredictionSet set : sets) {
                metrics.add(ClassifierMetrics.of(set.predictions(), cfg.positiveLabel()));
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(DOCUMENTS_KEY, null, documents + ": " + e.getMessage());
        }
        return new Result(sets, metrics, baselines, List.copyOf(labels));
    }

    /** One flag per fine-tuned model whose test macro-F1 is not above TF-IDF + logistic regression's. */
    public static List<String> flags(Result r, String documents) {
        List<String> out = new ArrayList<>();
        double lr = r.baselines().tfidf().macro().f1();
        for (int i = 0; i < r.sets().size(); i++) {
            double f1 = r.metrics().get(i).macro().f1();
            if (!(f1 > lr)) {
                out.add(String.format(Locale.ROOT, "classifier %s does not beat the %s baseline on macro-F1 (test split of %s): %.4f vs %.4f",
                        r.sets().get(i).name(), BaselineClassifiers.TFIDF_LR, documents, f1, lr));
            }
        }
        return out;
    }

    /**
     * report.json's {@code classifier}: an array whose first object compares every model and baseline (its
     * {@code models} table), followed by one object per model and baseline with its metrics, confusion matrix,
     * per-class table and curves (the fields report.html draws).
     */
    public static ArrayNode json(Result r, String documents, ClassifyConfig cfg) {
        BaselineClassifiers.Result b = r.baselines();
        Set<String> testIds = new HashSet<>();
        b.tfidfPredictions().forEach(p -> testIds.add(p.id()));
        ArrayNode out = JSON.createArrayNode();
        ObjectNode cmp = out.addObject();
        cmp.put("name", "classifiers and baselines (test split)");
        cmp.put("documents", documents);
        cmp.put("label_field", cfg.labelField());
        cmp.put("positive_label", cfg.positiveLabel());
        cmp.put("labels", String.join(", ", r.documentLabels()));
        b.documents().forEach((split, n) -> cmp.put(split + "_documents", n));
        cmp.put("unlabelled_documents", b.unlabelled());
        cmp.put("majority_label", b.majorityLabel());
        cmp.put("selected_reg_param", b.selectedRegParam());
        ObjectNode grid = cmp.putObject("validation_macro_f1");
        b.validationMacroF1().forEach((reg, f1) -> num(grid, Double.toString(reg), f1));
        ArrayNode models = cmp.putArray("models");
        List<ObjectNode> details = new ArrayList<>();
        double lr = b.tfidf().macro().f1();
        for (int i = 0; i < r.sets().size(); i++) {
            PredictionSet s = r.sets().get(i);
            ClassifierMetrics m = r.metrics().get(i);
            Set<String> ids = new HashSet<>();
            s.predictions().forEach(p -> ids.add(p.id()));
            long inTest = ids.stream().filter(testIds::contains).count();
            ObjectNode d = model(s.name(), "fine-tuned", m, cfg.positiveLabel());
            d.put("source", s.path().toString());
            d.put("files", s.files().size());
            d.put("predictions_in_test_split", inTest);
            // The baselines are scored on the test split; a fine-tune scored on other documents is not comparable.
            d.put("same_split", inTest == ids.size() && ids.size() == testIds.size());
            d.put("beats_tfidf_logistic_regression", m.macro().f1() > lr);
            details.add(d);
        }
        ObjectNode maj = model(BaselineClassifiers.MAJORITY, "baseline", b.majority(), cfg.positiveLabel());
        maj.put("source", "always \"" + b.majorityLabel() + "\", the most frequent train label");
        details.add(maj);
        ObjectNode tf = model(BaselineClassifiers.TFIDF_LR, "baseline", b.tfidf(), cfg.positiveLabel());
        tf.put("source", "MLlib RegexTokenizer, HashingTF (" + cfg.numFeatures() + " features), IDF, LogisticRegression (regParam "
                + b.selectedRegParam() + ")");
        details.add(tf);
        for (ObjectNode d : details) {
            ObjectNode row = models.addObject();
            for (String f : List.of("name", "kind", "n", "accuracy", "macro_f1", "weighted_f1", "positive_f1", "roc_auc",
                    "average_precision", "macro_roc_auc", "beats_tfidf_logistic_regression", "same_split")) {
                if (d.has(f)) {
                    row.set(f, d.get(f));
                }
            }
        }
        details.forEach(out::add);
        return out;
    }

    static ObjectNode model(String name, String kind, ClassifierMetrics m, String positive) {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", name);
        n.put("kind", kind);
        n.put("n", m.n());
        num(n, "accuracy", m.accuracy());
        num(n, "macro_precision", m.macro().precision());
        num(n, "macro_recall", m.macro().recall());
        num(n, "macro_f1", m.macro().f1());
        num(n, "weighted_f1", m.weighted().f1());
        if (positive != null) {
            ClassifierMetrics.ClassStats p = m.positiveStats();
            n.put("positive_label", positive);
            num(n, "positive_precision", p.precision());
            num(n, "positive_recall", p.recall());
            num(n, "positive_f1", p.f1());
            Curves c = m.curves().get(positive);
            if (c != null) {
                num(n, "roc_auc", c.rocAuc());
                num(n, "average_precision", c.averagePrecision());
            }
        } else if (!m.curves().isEmpty()) {
            num(n, "macro_roc_auc", m.macroRocAuc());
        }
        ArrayNode labels = n.putArray("labels");
        m.labels().forEach(labels::add);
        ArrayNode cm = n.putArray("confusion_matrix");
        m.confusion().rows().forEach(row -> {
            ArrayNode a = cm.addArray();
            row.forEach(a::add);
        });
        ArrayNode per = n.putArray("per_class");
        m.perClass().forEach((label, s) -> {
            ObjectNode o = per.addObject();
            o.put("label", label);
            num(o, "precision", s.precision());
            num(o, "recall", s.recall());
            num(o, "f1", s.f1());
            o.put("support", s.support());
            o.put("predicted", s.predicted());
        });
        if (!m.curves().isEmpty()) {
            ArrayNode rocs = JSON.createArrayNode();
            ArrayNode prs = JSON.createArrayNode();
            m.curves().forEach((label, c) -> {
                ObjectNode roc = rocs.addObject();
                ObjectNode pr = prs.addObject();
                roc.put("label", label);
                pr.put("label", label);
                ArrayNode fpr = roc.putArray("fpr");
                ArrayNode tpr = roc.putArray("tpr");
                for (Curves.Point p : c.roc()) {
                    add(fpr, p.x());
                    add(tpr, p.y());
                }
                num(roc, "auc", c.rocAuc());
                ArrayNode recall = pr.putArray("recall");
                ArrayNode precision = pr.putArray("precision");
                for (Curves.Point p : c.pr()) { // PR points are (threshold, precision, recall)
                    add(precision, p.x());
                    add(recall, p.y());
                }
                num(pr, "average_precision", c.averagePrecision());
            });
            n.set("roc", rocs.size() == 1 ? rocs.get(0) : rocs);
            n.set("pr", prs.size() == 1 ? prs.get(0) : prs);
        }
        n.set("details", JSON.valueToTree(m.toMap()));
        return n;
    }

    /** A number, or null where it is NaN or infinite (JSON has neither). */
    static void num(ObjectNode n, String field, double v) {
        if (Double.isFinite(v)) {
            n.put(field, v);
        } else {
            n.putNull(field);
        }
    }

    private static void add(ArrayNode a, double v) {
        if (Double.isFinite(v)) {
            a.add(v);
        } else {
            a.addNull();
        }
    }
}
