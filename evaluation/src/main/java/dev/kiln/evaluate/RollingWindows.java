package dev.kiln.evaluate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts one document into the disjoint prediction windows of lm-evaluation-harness's rolling loglikelihood
 * ({@code get_rolling_token_windows} with {@code context_len = 1}, {@code max_seq_len = T}), so every token is
 * predicted exactly once:
 * <ul>
 *   <li>window 0 predicts tokens {@code [0, min(T, n))} from {@code [EOT] + tokens[0 .. T-2]};</li>
 *   <li>window k predicts {@code [kT, (k+1)T)} from the T tokens before each of them, {@code tokens[kT-1 .. (k+1)T-1)};</li>
 *   <li>a last, shorter window predicting the {@code L < T} final tokens reads the T tokens before the end,
 *       {@code tokens[n-T-1 .. n-1)}, and scores only its last L positions (more context, still no token twice).</li>
 * </ul>
 * The model's context is fixed at T, so a document shorter than T gives one window padded at the end; the
 * model is causal, so padding never changes the scored positions.
 */
public final class RollingWindows {
    private RollingWindows() {
    }

    /**
     * One model input of T ids; positions {@code [from, to)} are scored against {@code target}.
     * {@code input[j]} is the context token right before {@code target[j]}.
     */
    public record Window(int[] input, int[] target, int from, int to) implements Serializable {
        public int scored() {
            return to - from;
        }
    }

    /** The windows of {@code tokens} (no end-of-text inside), in order; none for an empty document. */
    public static List<Window> of(int[] tokens, int contextLength, int endOfText) {
        int n = tokens.length;
        int t = contextLength;
        List<Window> out = new ArrayList<>((n + t - 1) / t);
        if (n == 0) {
            return out;
        }
        int first = Math.min(t, n);
        int[] input = new int[t];
        int[] target = new int[t];
        Arrays.fill(input, endOfText);
        Arrays.fill(target, endOfText);
        input[0] = endOfText;
        System.arraycopy(tokens, 0, input, 1, first - 1);
        System.arraycopy(tokens, 0, target, 0, first);
        out.add(new Window(input, target, 0, first));
        int predicted = first;
        while (predicted < n) {
            int len = Math.min(n - predicted, t);
            int end = predicted + len;
            // Input tokens[end - T - 1 .. end - 1), targets tokens[end - T .. end); score the last len positions.
            int[] in = Arrays.copyOfRange(tokens, end - t - 1, end - 1);
            int[] tg = Arrays.copyOfRange(tokens, end - t, end);
            out.add(new Window(in, tg, t - len, t));
            predicted = end;
        }
        return out;
    }
}
