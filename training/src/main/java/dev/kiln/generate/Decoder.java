package dev.kiln.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Next-token logits for a fixed number of rows, each holding one sequence's window, that grow a few tokens at a
 * time: a new window (a prompt, or a slid window) arrives whole, then one token per step.
 */
public interface Decoder {
    /**
     * For each i, row {@code rows[i]} appends {@code tokens[i]} to its window, or, with {@code fresh[i]}, starts a new
     * window made of them. Returns the next-token logits after each of those rows' windows, {@code [rows.length][V]}.
     */
    double[][] extend(int[] rows, int[][] tokens, boolean[] fresh);

    /** The reference decoder: keeps the windows and runs the whole of each through {@link LanguageModel#nextLogits}. */
    final class Recomputing implements Decoder {
        private final LanguageModel model;
        private final int[][] windows;

        Recomputing(LanguageModel model, int rows) {
            this.model = model;
            this.windows = new int[rows][0];
        }

        @Override
        public double[][] extend(int[] rows, int[][] tokens, boolean[] fresh) {
            List<int[]> batch = new ArrayList<>(rows.length);
            for (int i = 0; i < rows.length; i++) {
                int[] w = fresh[i] ? new int[0] : windows[rows[i]];
                int[] grown = Arrays.copyOf(w, w.length + tokens[i].length);
                System.arraycopy(tokens[i], 0, grown, w.length, tokens[i].length);
                windows[rows[i]] = grown;
                batch.add(grown);
            }
            return model.nextLogits(batch);
        }
    }
}
