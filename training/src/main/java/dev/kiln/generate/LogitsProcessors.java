package dev.kiln.generate;

import java.util.Arrays;

/**
 * Hugging Face's logits processors, in the order its {@code generate} applies them: repetition penalty, temperature,
 * top-k, top-p. Each rewrites {@code scores} (one per vocabulary id) in place; a removed token gets
 * {@code -Infinity}, so the softmax gives it probability 0.
 *
 * <p>Kiln's model returns probabilities, so the scores here are log-probabilities (logits up to a constant per
 * position). Temperature, top-k and top-p give the same result on either, since softmax ignores a constant shift.
 * The repetition penalty does not: on log-probabilities every score is {@code <= 0}, so a seen token's score is
 * always multiplied by the penalty (made less likely for a penalty above 1), where Hugging Face on raw logits
 * divides the positive ones.
 */
public final class LogitsProcessors {
    private LogitsProcessors() {
    }

    /** The whole chain for sampling ({@code doSample}) or greedy decoding (the repetition penalty only). */
    public static void apply(double[] scores, int[] context, GenerationConfig cfg) {
        repetitionPenalty(scores, context, cfg.repetitionPenalty());
        if (cfg.doSample()) {
            temperature(scores, cfg.temperature());
            topK(scores, cfg.topK());
            topP(scores, cfg.topP());
        }
    }

    /**
     * CTRL's repetition penalty (Keskar et al. 2019), as Hugging Face applies it: every id that occurs in
     * {@code context} (prompt and generated tokens so far; each distinct id once) has its score divided by
     * {@code penalty} when positive and multiplied by it when negative. 1 changes nothing.
     */
    public static void repetitionPenalty(double[] scores, int[] context, double penalty) {
        if (penalty == 1.0) {
            return;
        }
        boolean[] seen = new boolean[scores.length];
        for (int id : context) {
            if (!seen[id]) {
                seen[id] = true;
                double s = scores[id];
                scores[id] = s < 0 ? s * penalty : s / penalty;
            }
        }
    }

    /** Divides every score by {@code t} (> 0): below 1 sharpens the distribution, above 1 flattens it. */
    public static void temperature(double[] scores, double t) {
        if (t == 1.0) {
            return;
        }
        for (int i = 0; i < scores.length; i++) {
            scores[i] /= t;
        }
    }

    /**
     * Keeps the tokens whose score is at least the {@code k}-th largest, so tokens tied with the k-th are all kept
     * (Hugging Face's rule: remove {@code scores < topk(scores, k).values[-1]}) and more than k may survive.
     * {@code k = 0} or {@code k >= V} keeps everything.
     */
    public static void topK(double[] scores, int k) {
        if (k <= 0 || k >= scores.length) {
            return;
        }
        double[] sorted = scores.clone();
        Arrays.sort(sorted);
        double kth = sorted[sorted.length - k];
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] < kth) {
                scores[i] = Double.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * Nucleus sampling (Holtzman et al. 2019): keeps the smallest set of most probable tokens whose probability
     * (softmax of the scores) reaches {@code p}, and always at least one token. Tokens are taken by descending
     * probability, equal probabilities by ascending id. {@code p = 1} keeps everything.
     */
    public static void topP(double[] scores, double p) {
        if (p >= 1.0) {
            return;
        }
        double[] probs = Sampler.softmax(scores);
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> probs[a] != probs[b] ? Double.compare(probs[b], probs[a]) : Integer.compare(a, b));
        double mass = 0;
        int kept = 0;
        while (kept < order.length && (kept == 0 || mass < p)) {
            mass += probs[order[kept]];
            kept++;
        }
        for (int r = kept; r < order.length; r++) {
            scores[order[r]] = Double.NEGATIVE_INFINITY;
        }
    }
}
