package dev.kiln.evaluate;

import java.io.Serializable;
import java.util.List;

/**
 * A baseline that looks at most one token back: {@code input[j]} (the token before the target, end-of-text at the
 * start of a document) is its whole context.
 */
public abstract class NgramScorer implements TokenScorer, Serializable {
    /** ln p(token | previous). */
    public abstract double logProb(int previous, int token);

    @Override
    public final void score(List<RollingWindows.Window> windows, double[][] out) {
        for (int i = 0; i < windows.size(); i++) {
            RollingWindows.Window w = windows.get(i);
            for (int j = w.from(); j < w.to(); j++) {
                out[i][j] = logProb(w.input()[j], w.target()[j]);
            }
        }
    }

    /** Every token equally likely: ln(1/V). */
    public static final class Uniform extends NgramScorer {
        private final double logP;

        public Uniform(int vocabSize) {
            this.logP = -Math.log(vocabSize);
        }

        @Override
        public double logProb(int previous, int token) {
            return logP;
        }
    }

    /** Add-one (Laplace) unigram: p(w) = (c(w) + 1) / (N + V), counted on the training split. */
    public static final class UnigramAddOne extends NgramScorer {
        private final double[] logP;

        public UnigramAddOne(NgramCounts counts) {
            long[] c = counts.unigrams();
            double denominator = counts.tokens() + (double) c.length;
            logP = new double[c.length];
            for (int w = 0; w < c.length; w++) {
                logP[w] = Math.log((c[w] + 1.0) / denominator);
            }
        }

        @Override
        public double logProb(int previous, int token) {
            return logP[token];
        }
    }
}
