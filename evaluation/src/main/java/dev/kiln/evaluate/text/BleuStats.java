package dev.kiln.evaluate.text;

import java.io.Serializable;
import java.util.Arrays;

/**
 * BLEU's sufficient statistics (sacreBLEU's stats vector): hypothesis length, the chosen reference length, and per
 * n-gram order n = 1..4 the clipped matches and the hypothesis n-grams. They add, so executors return them per
 * partition and the driver sums them; corpus BLEU is computed from the sum, never averaged over segments.
 *
 * @param hypLen  hypothesis tokens
 * @param refLen  reference tokens, per segment the length of the reference closest to the hypothesis
 * @param correct correct[n-1]: hypothesis n-grams matched, each clipped at its largest count in any one reference
 * @param total   total[n-1]: hypothesis n-grams, max(0, hypLen - n + 1)
 */
public record BleuStats(long hypLen, long refLen, long[] correct, long[] total) implements Serializable {
    public static final int MAX_ORDER = 4;
    public static final BleuStats ZERO = new BleuStats(0, 0, new long[MAX_ORDER], new long[MAX_ORDER]);

    public BleuStats {
        if (correct.length != MAX_ORDER || total.length != MAX_ORDER) {
            throw new IllegalArgumentException("expected " + MAX_ORDER + " n-gram orders, got correct "
                    + Arrays.toString(correct) + " and total " + Arrays.toString(total));
        }
        correct = correct.clone();
        total = total.clone();
    }

    public BleuStats plus(BleuStats o) {
        long[] c = new long[MAX_ORDER];
        long[] t = new long[MAX_ORDER];
        for (int n = 0; n < MAX_ORDER; n++) {
            c[n] = correct[n] + o.correct[n];
            t[n] = total[n] + o.total[n];
        }
        return new BleuStats(hypLen + o.hypLen, refLen + o.refLen, c, t);
    }

    @Override
    public long[] correct() {
        return correct.clone();
    }

    @Override
    public long[] total() {
        return total.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BleuStats b && hypLen == b.hypLen && refLen == b.refLen
                && Arrays.equals(correct, b.correct) && Arrays.equals(total, b.total);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(hypLen) + Long.hashCode(refLen)) + 17 * Arrays.hashCode(correct) + Arrays.hashCode(total);
    }

    @Override
    public String toString() {
        return "BleuStats[hypLen=" + hypLen + ", refLen=" + refLen + ", correct=" + Arrays.toString(correct)
                + ", total=" + Arrays.toString(total) + "]";
    }
}
