package dev.kiln.evaluate;

import java.util.List;

/** A language model seen only through the log-probabilities it gives the scored positions of a batch of windows. */
public interface TokenScorer {
    /**
     * For each window i and each scored position j in {@code [from, to)}: {@code out[i][j] = ln p(target[j] | input[0..j])},
     * in double. Other entries of {@code out} are left as they are.
     */
    void score(List<RollingWindows.Window> windows, double[][] out);
}
