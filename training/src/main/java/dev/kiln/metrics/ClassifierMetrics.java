package dev.kiln.metrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Classifier metrics from predictions, defined as scikit-learn defines them (so they can be checked against it):
 * per class precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2PR / (P + R), each 0 where its denominator
 * is 0 (scikit-learn's {@code zero_division} result); macro = the unweighted mean over the labels (the union of true
 * and predicted labels), weighted = the mean weighted by support (true count). Curves are exact ({@link Curves}).
 *
 * <p>A binary task names its positive class: precision, recall, F1, ROC AUC and average precision of that class
 * are the headline numbers, with its curves. Without a positive class (any number of labels) every label gets its
 * one-vs-rest curves, scored by its own probability, and {@code macroRocAuc} averages their AUCs. A class missing
 * from a prediction's probabilities counts as probability 0 (e.g. a label the model never saw in training).
 *
 * @param positive    the positive class of a binary task, or null
 * @param curves      per label with curves (only the positive one for a binary task); empty without probabilities
 * @param macroRocAuc mean one-vs-rest ROC AUC over {@code curves} (NaN where a class has no positives or no negatives)
 */
public record ClassifierMetrics(long n, List<String> labels, ConfusionMatrix confusion, double accuracy,
                                Map<String, ClassStats> perClass, Averages macro, Averages weighted, String positive,
                                Map<String, Curves> curves, double macroRocAuc) implements Serializable {

    /** Precision, recall and F1 of one class, its support (true count) and how often it was predicted. */
    public record ClassStats(double precision, double recall, double f1, long support, long predicted) implements Serializable {
    }

    /** Averaged precision, recall and F1 (macro: over labels; weighted: by support). */
    public record Averages(double precision, double recall, double f1) implements Serializable {
    }

    public ClassifierMetrics {
        labels = List.copyOf(labels);
        perClass = Collections.unmodifiableMap(new LinkedHashMap<>(perClass));
        curves = Collections.unmodifiableMap(new LinkedHashMap<>(curves));
    }

    /**
     * Metrics of the predictions; {@code positive} is the positive class of a binary task (it must be one of the
     * labels, and there must be at most two), or null for one-vs-rest curves of every label.
     */
    public static ClassifierMetrics of(List<Prediction> predictions, String positive) {
        if (predictions.isEmpty()) {
            throw new IllegalArgumentException("no predictions to score");
        }
        ConfusionMatrix confusion = ConfusionMatrix.of(predictions);
        SortedSet<String> known = new TreeSet<>(confusion.labels());
        boolean withProbabilities = predictions.stream().anyMatch(p -> !p.probabilities().isEmpty());
        if (withProbabilities) {
            for (Prediction p : predictions) {
                if (p.probabilities().isEmpty()) {
                    throw new IllegalArgumentException("prediction " + p.id() + " has no probabilities while others have;"
                            + " expected probabilities for every prediction or for none");
                }
                known.addAll(p.probabilities().keySet());
            }
        }
        if (positive != null) {
            if (!known.contains(positive)) {
                throw new IllegalArgumentException("positive class \"" + positive + "\" is not among the labels " + known);
            }
            if (known.size() > 2) {
                throw new IllegalArgumentException("a positive class is for binary tasks, but there are " + known.size()
                        + " labels " + known + "; leave it unset for one-vs-rest metrics");
            }
        }
        Map<String, Curves> curves = new LinkedHashMap<>();
        if (withProbabilities) {
            for (String c : positive != null ? List.of(positive) : List.copyOf(known)) {
                curves.put(c, oneVsRest(predictions, c));
            }
        }
        return fromConfusion(confusion, positive, curves);
    }

    /** The metrics a confusion matrix determines (no curves): what summed partition counts give. */
    public static ClassifierMetrics fromConfusion(ConfusionMatrix confusion, String positive, Map<String, Curves> curves) {
        long n = confusion.total();
        List<String> labels = confusion.labels();
        Map<String, ClassStats> perClass = new LinkedHashMap<>();
        double mp = 0, mr = 0, mf = 0, wp = 0, wr = 0, wf = 0;
        for (String c : labels) {
            long tp = confusion.count(c, c);
            long support = confusion.support(c);
            long predicted = confusion.predictedAs(c);
            double p = ratio(tp, predicted);
            double r = ratio(tp, support);
            double f = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
            perClass.put(c, new ClassStats(p, r, f, support, predicted));
            mp += p;
            mr += r;
            mf += f;
            wp += p * support;
            wr += r * support;
            wf += f * support;
        }
        int k = labels.size();
        double aucSum = 0;
        for (Curves cv : curves.values()) {
            aucSum += cv.rocAuc();
        }
        return new ClassifierMetrics(n, labels, confusion, ratio(confusion.correct(), n), perClass,
                new Averages(mp / k, mr / k, mf / k), new Averages(wp / n, wr / n, wf / n), positive, curves,
                curves.isEmpty() ? Double.NaN : aucSum / curves.size());
    }

    /** The positive class's numbers (binary tasks). */
    public ClassStats positiveStats() {
        if (positive == null) {
            throw new IllegalStateException("no positive class: these are one-vs-rest metrics over " + labels);
        }
        return perClass.getOrDefault(positive, new ClassStats(0, 0, 0, 0, 0));
    }

    private static Curves oneVsRest(List<Prediction> predictions, String c) {
        double[] scores = new double[predictions.size()];
        boolean[] isPositive = new boolean[predictions.size()];
        for (int i = 0; i < scores.length; i++) {
            Prediction p = predictions.get(i);
            scores[i] = p.probabilities().getOrDefault(c, 0.0);
            isPositive[i] = p.label().equals(c);
        }
        return Curves.of(scores, isPositive);
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0.0 : (double) a / b;
    }

    /**
     * A JSON-ready view (maps, lists, numbers; NaN and infinite values as null): counts, accuracy, per-class and
     * averaged scores, the confusion matrix, and curves as [threshold, x, y] triples.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", n);
        m.put("labels", labels);
        m.put("positive", positive);
        m.put("accuracy", num(accuracy));
        m.put("macro", Map.of("precision", num(macro.precision()), "recall", num(macro.recall()), "f1", num(macro.f1())));
        m.put("weighted", Map.of("precision", num(weighted.precision()), "recall", num(weighted.recall()), "f1", num(weighted.f1())));
        Map<String, Object> pc = new LinkedHashMap<>();
        perClass.forEach((c, s) -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("precision", num(s.precision()));
            one.put("recall", num(s.recall()));
            one.put("f1", num(s.f1()));
            one.put("support", s.support());
            one.put("predicted", s.predicted());
            Curves cv = curves.get(c);
            if (cv != null) {
                one.put("roc_auc", num(cv.rocAuc()));
                one.put("average_precision", num(cv.averagePrecision()));
            }
            pc.put(c, one);
        });
        m.put("per_class", pc);
        m.put("macro_roc_auc", num(macroRocAuc));
        m.put("confusion_matrix", Map.of("labels", labels, "rows_true_columns_predicted", confusion.rows()));
        Map<String, Object> cs = new LinkedHashMap<>();
        curves.forEach((c, cv) -> cs.put(c, Map.of("roc_fpr_tpr", points(cv.roc()), "pr_precision_recall", points(cv.pr()),
                "positives", cv.positives(), "negatives", cv.negatives())));
        m.put("curves", cs);
        return m;
    }

    private static List<List<Object>> points(List<Curves.Point> pts) {
        List<List<Object>> out = new ArrayList<>(pts.size());
        for (Curves.Point p : pts) {
            out.add(Arrays.asList(num(p.threshold()), num(p.x()), num(p.y())));
        }
        return out;
    }

    private static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
