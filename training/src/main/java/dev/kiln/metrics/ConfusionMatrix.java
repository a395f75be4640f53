package dev.kiln.metrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Counts of (true label, predicted label) pairs: the sufficient statistics of accuracy, precision, recall and F1.
 * They add, so partitions can count their own and the driver sums them. Labels are the union of true and predicted
 * labels seen, sorted; {@code count(t, p)} is 0 for a pair never seen.
 */
public final class ConfusionMatrix implements Serializable {
    private final SortedMap<String, SortedMap<String, Long>> counts;

    private ConfusionMatrix(SortedMap<String, SortedMap<String, Long>> counts) {
        this.counts = counts;
    }

    public static final ConfusionMatrix EMPTY = new ConfusionMatrix(new TreeMap<>());

    public static ConfusionMatrix of(List<Prediction> predictions) {
        SortedMap<String, SortedMap<String, Long>> c = new TreeMap<>();
        for (Prediction p : predictions) {
            c.computeIfAbsent(p.label(), k -> new TreeMap<>()).merge(p.predicted(), 1L, Long::sum);
        }
        return new ConfusionMatrix(c);
    }

    /** A matrix from explicit counts: {@code counts.get(trueLabel).get(predictedLabel)}. */
    public static ConfusionMatrix ofCounts(Map<String, Map<String, Long>> counts) {
        SortedMap<String, SortedMap<String, Long>> c = new TreeMap<>();
        counts.forEach((t, row) -> row.forEach((p, n) -> {
            if (n < 0) {
                throw new IllegalArgumentException("negative count " + n + " for (" + t + ", " + p + ")");
            }
            c.computeIfAbsent(t, k -> new TreeMap<>()).merge(p, n, Long::sum);
        }));
        return new ConfusionMatrix(c);
    }

    public ConfusionMatrix plus(ConfusionMatrix o) {
        SortedMap<String, SortedMap<String, Long>> c = new TreeMap<>();
        for (ConfusionMatrix m : List.of(this, o)) {
            m.counts.forEach((t, row) -> row.forEach((p, n) -> c.computeIfAbsent(t, k -> new TreeMap<>()).merge(p, n, Long::sum)));
        }
        return new ConfusionMatrix(c);
    }

    /** Every label seen as a true or a predicted label, sorted. */
    public List<String> labels() {
        SortedSet<String> s = new TreeSet<>(counts.keySet());
        counts.values().forEach(row -> s.addAll(row.keySet()));
        return List.copyOf(s);
    }

    public long count(String trueLabel, String predicted) {
        return counts.getOrDefault(trueLabel, Collections.emptySortedMap()).getOrDefault(predicted, 0L);
    }

    public long total() {
        long n = 0;
        for (SortedMap<String, Long> row : counts.values()) {
            for (long v : row.values()) {
                n += v;
            }
        }
        return n;
    }

    /** Documents whose true label is {@code label} (its support). */
    public long support(String label) {
        long n = 0;
        for (long v : counts.getOrDefault(label, Collections.emptySortedMap()).values()) {
            n += v;
        }
        return n;
    }

    /** Documents predicted as {@code label}. */
    public long predictedAs(String label) {
        long n = 0;
        for (SortedMap<String, Long> row : counts.values()) {
            n += row.getOrDefault(label, 0L);
        }
        return n;
    }

    public long correct() {
        long n = 0;
        for (Map.Entry<String, SortedMap<String, Long>> e : counts.entrySet()) {
            n += e.getValue().getOrDefault(e.getKey(), 0L);
        }
        return n;
    }

    /** Rows are true labels, columns predicted labels, both in {@link #labels()} order. */
    public List<List<Long>> rows() {
        List<String> labels = labels();
        List<List<Long>> out = new ArrayList<>();
        for (String t : labels) {
            List<Long> row = new ArrayList<>();
            for (String p : labels) {
                row.add(count(t, p));
            }
            out.add(List.copyOf(row));
        }
        return List.copyOf(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfusionMatrix m && labels().equals(m.labels()) && rows().equals(m.rows());
    }

    @Override
    public int hashCode() {
        return rows().hashCode();
    }

    @Override
    public String toString() {
        return "ConfusionMatrix" + labels() + rows();
    }
}
