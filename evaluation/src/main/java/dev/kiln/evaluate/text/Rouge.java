package dev.kiln.evaluate.text;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L as Google's rouge-score package computes them by default
 * ({@code RougeScorer(["rouge1", "rouge2", "rougeL"])}, no stemming): {@code score(target, prediction)}, where the
 * target is the reference. Text is lowercased, every run of characters outside [a-z0-9] becomes a space and the
 * rest is split on whitespace (so text in other scripts, e.g. Chinese, has no tokens at all).
 *
 * <p>ROUGE-N: overlap = sum over the target's n-grams of min(count in target, count in prediction); precision =
 * overlap / max(prediction n-grams, 1), recall = overlap / max(target n-grams, 1). ROUGE-L: the longest common
 * subsequence of the token lists; precision = LCS / prediction tokens, recall = LCS / target tokens (0 when either
 * is empty). F = 2PR / (P + R), 0 when P + R = 0. ROUGE-Lsum (split at newlines) and stemming are not implemented.
 */
public final class Rouge {
    private static final Pattern NON_ALPHANUMERIC = Pattern.compile("[^a-z0-9]+");
    private static final Pattern SPACES = Pattern.compile("\\s+");

    /** The three rouge-score types this class computes, in report order. */
    public enum Type {
        ROUGE1("rouge1"), ROUGE2("rouge2"), ROUGEL("rougeL");

        private final String key;

        Type(String key) {
            this.key = key;
        }

        /** rouge-score's name for the type. */
        public String key() {
            return key;
        }
    }

    /** rouge-score's {@code Score}. */
    public record Score(double precision, double recall, double fmeasure) implements Serializable {
        static Score of(double precision, double recall) {
            return new Score(precision, recall, precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0);
        }
    }

    /**
     * Sums of per-segment scores for a corpus mean (what rouge-score's aggregators and most papers report: the mean
     * of per-example F-measures, not a pooled F); they add across partitions.
     *
     * @param precision precision[t] summed over segments, t = {@link Type#ordinal()}
     * @param recall    recall sums
     * @param fmeasure  F-measure sums
     * @param segments  segments added
     */
    public record Sums(double[] precision, double[] recall, double[] fmeasure, long segments) implements Serializable {
        public static final Sums ZERO = new Sums(new double[3], new double[3], new double[3], 0);

        public Sums {
            precision = precision.clone();
            recall = recall.clone();
            fmeasure = fmeasure.clone();
        }

        public static Sums of(Map<Type, Score> scores) {
            double[] p = new double[3];
            double[] r = new double[3];
            double[] f = new double[3];
            scores.forEach((t, s) -> {
                p[t.ordinal()] = s.precision();
                r[t.ordinal()] = s.recall();
                f[t.ordinal()] = s.fmeasure();
            });
            return new Sums(p, r, f, 1);
        }

        public Sums plus(Sums o) {
            double[] p = new double[3];
            double[] r = new double[3];
            double[] f = new double[3];
            for (int t = 0; t < 3; t++) {
                p[t] = precision[t] + o.precision[t];
                r[t] = recall[t] + o.recall[t];
                f[t] = fmeasure[t] + o.fmeasure[t];
            }
            return new Sums(p, r, f, segments + o.segments);
        }

        /** The mean precision, recall and F-measure of one type over the segments. */
        public Score mean(Type t) {
            int i = t.ordinal();
            return new Score(precision[i] / segments, recall[i] / segments, fmeasure[i] / segments);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Sums s && segments == s.segments && Arrays.equals(precision, s.precision)
                    && Arrays.equals(recall, s.recall) && Arrays.equals(fmeasure, s.fmeasure);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(segments) + 31 * Arrays.hashCode(fmeasure);
        }

        @Override
        public String toString() {
            return "Rouge.Sums[segments=" + segments + ", f=" + Arrays.toString(fmeasure) + "]";
        }
    }

    private Rouge() {
    }

    /** rouge-score's {@code RougeScorer(["rouge1", "rouge2", "rougeL"]).score(target, prediction)}. */
    public static Map<Type, Score> score(String target, String prediction) {
        List<String> t = tokens(target);
        List<String> p = tokens(prediction);
        Map<Type, Score> out = new EnumMap<>(Type.class);
        out.put(Type.ROUGE1, rougeN(t, p, 1));
        out.put(Type.ROUGE2, rougeN(t, p, 2));
        out.put(Type.ROUGEL, rougeL(t, p));
        return out;
    }

    /** rouge-score's default tokenizer without stemming. */
    public static List<String> tokens(String text) {
        String s = NON_ALPHANUMERIC.matcher(text.toLowerCase(Locale.ROOT)).replaceAll(" ");
        List<String> out = new ArrayList<>();
        for (String tok : SPACES.split(s)) {
            if (!tok.isEmpty()) {
                out.add(tok);
            }
        }
        return out;
    }

    static Score rougeN(List<String> target, List<String> prediction, int n) {
        Map<List<String>, Integer> t = ngrams(target, n);
        Map<List<String>, Integer> p = ngrams(prediction, n);
        long overlap = 0;
        for (Map.Entry<List<String>, Integer> e : t.entrySet()) {
            overlap += Math.min(e.getValue(), p.getOrDefault(e.getKey(), 0));
        }
        long targetCount = Math.max(0, target.size() - n + 1);
        long predictionCount = Math.max(0, prediction.size() - n + 1);
        return Score.of((double) overlap / Math.max(predictionCount, 1), (double) overlap / Math.max(targetCount, 1));
    }

    static Score rougeL(List<String> target, List<String> prediction) {
        if (target.isEmpty() || prediction.isEmpty()) {
            return new Score(0, 0, 0);
        }
        int lcs = lcsLength(target, prediction);
        return Score.of((double) lcs / prediction.size(), (double) lcs / target.size());
    }

    /** Length of the longest common subsequence, O(|a| |b|) time, O(|b|) memory. */
    static int lcsLength(List<String> a, List<String> b) {
        int[] prev = new int[b.size() + 1];
        int[] cur = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                cur[j] = a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] tmp = prev;
            prev = cur;
            cur = tmp;
        }
        return prev[b.size()];
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
        }
        return counts;
    }
}
