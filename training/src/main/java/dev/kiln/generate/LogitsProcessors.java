package dev.kiln.generate;

import java.util.Arrays;

/**
 * Hugging Face's logits processors, in the order its {@code generate} applies them: repetition penalty, temperature,
 * top-k, top-p. Each rewrites {@code scores} (one per vocabulary id) in place; a removed token gets
 * {@code -Infinity}, so the softmax gives it probability 0.
 *
 * <p>The scores are the model's raw logits ({@link LanguageModel#nextLogits}), as in Hugging Face: the repetition
 * penalty divides a seen token's positive logit by the penalty and multiplies a negative one.
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
        double kth = kthLargest(scores, k);
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] < kth) {
                scores[i] = Double.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * The k-th largest value (duplicates counted, as in a sorted copy's {@code [length - k]}), with a min-heap of the
     * k largest so far: O(V log k), not a sort of all V scores at every generated token.
     */
    static double kthLargest(double[] a, int k) {
        double[] heap = Arrays.copyOf(a, k); // the first k values, then heapified: heap[0] is their minimum
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(heap, i, k);
        }
        for (int i = k; i < a.length; i++) {
            if (a[i] > heap[0]) {
                heap[0] = a[i];
                siftDown(heap, 0, k);
            }
        }
        return heap[0];
    }

    private static void siftDown(double[] heap, int i, int n) {
        while (true) {
            int smallest = i, l = 2 * i + 1, r = l + 1;
            if (l < n && heap[l] < heap[smallest]) {
                smallest = l;
            }
            if (r < n && heap[r] < heap[smallest]) {
                smallest = r;
            }
            if (smallest == i) {
                return;
            }
            double t = heap[i];
            heap[i] = heap[smallest];
            heap[smallest] = t;
            i = smallest;
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
