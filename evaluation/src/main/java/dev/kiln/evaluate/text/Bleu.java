package dev.kiln.evaluate.text;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus BLEU as sacreBLEU computes it by default ({@code BLEU()}: 13a tokenisation, case-sensitive, 4-grams,
 * {@code exp} smoothing, no effective order): the signature {@code nrefs:N|case:mixed|eff:no|tok:13a|smooth:exp}.
 *
 * <p>Per segment, {@link #segment} counts the statistics ({@link BleuStats}); corpus BLEU is
 * {@code BP * exp(mean_n ln p_n)} over their sum, with p_n = correct_n / total_n and the brevity penalty
 * BP = exp(1 - r / c) when the hypothesis length c is below the reference length r (else 1). The reference length
 * of a segment is the one closest to the hypothesis length, the shorter one on a tie. {@code exp} smoothing
 * (mteval's): the k-th order with no match gets p_n = 1 / (2^k total_n). No match at all gives 0.
 *
 * <p>Scores here are fractions in [0, 1]; sacreBLEU prints them times 100 (0.4853 is its "48.53").
 */
public final class Bleu {
    /** Corpus BLEU and its parts; precisions are fractions, index n-1 for n-grams. */
    public record Score(double bleu, double[] precisions, double brevityPenalty, double lengthRatio, BleuStats stats) {
        @Override
        public String toString() {
            return String.format("BLEU %.4f (precisions %.4f/%.4f/%.4f/%.4f, BP %.4f, ratio %.4f, hyp_len %d, ref_len %d)",
                    bleu, precisions[0], precisions[1], precisions[2], precisions[3], brevityPenalty, lengthRatio,
                    stats.hypLen(), stats.refLen());
        }
    }

    private Bleu() {
    }

    /**
     * Corpus BLEU in sacreBLEU's layout: {@code referenceStreams.get(k).get(i)} is the k-th reference of hypothesis
     * i (every stream as long as the hypotheses).
     */
    public static Score corpus(List<String> hypotheses, List<List<String>> referenceStreams) {
        if (referenceStreams.isEmpty()) {
            throw new IllegalArgumentException("BLEU needs at least one reference stream");
        }
        for (int k = 0; k < referenceStreams.size(); k++) {
            if (referenceStreams.get(k).size() != hypotheses.size()) {
                throw new IllegalArgumentException("reference stream " + k + " has " + referenceStreams.get(k).size()
                        + " segments, expected one per hypothesis (" + hypotheses.size() + ")");
            }
        }
        BleuStats sum = BleuStats.ZERO;
        for (int i = 0; i < hypotheses.size(); i++) {
            List<String> refs = new ArrayList<>(referenceStreams.size());
            for (List<String> stream : referenceStreams) {
                refs.add(stream.get(i));
            }
            sum = sum.plus(segment(hypotheses.get(i), refs));
        }
        return score(sum);
    }

    /**
     * The statistics of one hypothesis against its references (13a-tokenised, case-sensitive). As in sacreBLEU,
     * null or empty references are left out (segments may have fewer references than others), at least one must
     * remain, and every segment is right-stripped before tokenisation.
     */
    public static BleuStats segment(String hypothesis, List<String> references) {
        List<String> hyp = Tokenizer13a.tokens(rstrip(hypothesis));
        Map<List<String>, Integer> maxRefCounts = new HashMap<>();
        List<Integer> refLens = new ArrayList<>(references.size());
        for (String r : references) {
            if (r == null || r.isEmpty()) {
                continue;
            }
            List<String> ref = Tokenizer13a.tokens(rstrip(r));
            refLens.add(ref.size());
            ngramCounts(ref).forEach((g, c) -> maxRefCounts.merge(g, c, Math::max));
        }
        if (refLens.isEmpty()) {
            throw new IllegalArgumentException("no reference (all null or empty) for the hypothesis \"" + hypothesis + "\"");
        }
        long[] correct = new long[BleuStats.MAX_ORDER];
        long[] total = new long[BleuStats.MAX_ORDER];
        ngramCounts(hyp).forEach((g, c) -> correct[g.size() - 1] += Math.min(c, maxRefCounts.getOrDefault(g, 0)));
        for (int n = 1; n <= BleuStats.MAX_ORDER; n++) {
            total[n - 1] = Math.max(0, hyp.size() - n + 1);
        }
        return new BleuStats(hyp.size(), closestRefLength(hyp.size(), refLens), correct, total);
    }

    /** sacreBLEU's {@code BLEU.compute_bleu} with {@code smooth_method='exp'}, as a fraction. */
    public static Score score(BleuStats s) {
        long sys = s.hypLen();
        long ref = s.refLen();
        double bp = sys < ref ? (sys > 0 ? Math.exp(1 - (double) ref / sys) : 0.0) : 1.0;
        double ratio = ref > 0 ? (double) sys / ref : 0.0;
        long[] correct = s.correct();
        long[] total = s.total();
        double[] precisions = new double[BleuStats.MAX_ORDER];
        boolean anyMatch = false;
        for (long c : correct) {
            anyMatch |= c > 0;
        }
        if (!anyMatch) {
            return new Score(0.0, precisions, bp, ratio, s);
        }
        double smooth = 1.0;
        for (int n = 0; n < BleuStats.MAX_ORDER; n++) {
            if (total[n] == 0) {
                break; // higher orders keep precision 0, so BLEU is (practically) 0, as in sacreBLEU
            }
            if (correct[n] == 0) {
                smooth *= 2;
                precisions[n] = 1.0 / (smooth * total[n]);
            } else {
                precisions[n] = (double) correct[n] / total[n];
            }
        }
        double logSum = 0;
        for (double p : precisions) {
            // sacreBLEU's my_log: log(0) is -9999999999, which makes the score 0 without a NaN.
            logSum += p == 0 ? -9999999999.0 : Math.log(p);
        }
        return new Score(bp * Math.exp(logSum / BleuStats.MAX_ORDER), precisions, bp, ratio, s);
    }

    /** Python's {@code str.rstrip()}. */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && Tokenizer13a.isPythonSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    /** The reference length closest to the hypothesis length; on a tie the shorter reference (sacreBLEU's rule). */
    static int closestRefLength(int hypLen, List<Integer> refLens) {
        int best = -1;
        int bestDiff = -1;
        for (int len : refLens) {
            int diff = Math.abs(hypLen - len);
            if (bestDiff == -1 || diff < bestDiff || (diff == bestDiff && len < best)) {
                bestDiff = diff;
                best = len;
            }
        }
        return best;
    }

    /** Counts of all 1- to 4-grams of the tokens, keyed by the n-gram (its length is its order). */
    static Map<List<String>, Integer> ngramCounts(List<String> tokens) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int n = 1; n <= BleuStats.MAX_ORDER; n++) {
            for (int i = 0; i + n <= tokens.size(); i++) {
                counts.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
            }
        }
        return counts;
    }
}
