package dev.kiln.evaluate;

/**
 * Interpolated Kneser-Ney bigram model (Chen and Goodman 1998, eq. 15, with the lower order interpolated down to
 * the uniform distribution so that every token has non-zero probability):
 * <pre>
 *   p(w | v)   = max(c(v,w) - D2, 0) / c(v) + D2 * N1+(v .) / c(v) * p_cont(w)        (c(v) > 0)
 *              = p_cont(w)                                                            (v never seen as context)
 *   p_cont(w)  = max(N1+(. w) - D1, 0) / N1+(. .) + D1 * |{w : N1+(. w) > 0}| / N1+(. .) * 1 / V
 * </pre>
 * c(v) is the count of v as a context, N1+(v .) the distinct tokens seen after v, N1+(. w) the distinct contexts
 * seen before w, N1+(. .) the distinct bigrams. The discounts are Ney's estimate {@code D = n1 / (n1 + 2 n2)} from
 * the count-of-counts of each level (n1, n2: bigrams seen once and twice for D2; tokens with one and two distinct
 * contexts for D1), or 0.75 where n1 is 0; or one fixed value for both levels.
 */
public final class KneserNeyBigram extends NgramScorer {
    public static final double FALLBACK_DISCOUNT = 0.75;

    private final NgramCounts counts;
    private final double bigramDiscount;
    private final double unigramDiscount;
    private final long[] contextCounts;
    private final int[] followers;
    private final double[] continuation;

    /** {@code discount}: a fixed D in (0, 1] for both levels, or NaN for the n1/(n1+2 n2) estimates. */
    public KneserNeyBigram(NgramCounts counts, double discount) {
        this.counts = counts;
        int v = counts.vocabSize();
        long[] keys = counts.bigramKeys();
        long[] c = counts.bigramCounts();
        contextCounts = new long[v];
        followers = new int[v];
        int[] precedents = new int[v];
        long n1 = 0;
        long n2 = 0;
        for (int i = 0; i < keys.length; i++) {
            int previous = (int) (keys[i] / v);
            int token = (int) (keys[i] % v);
            contextCounts[previous] += c[i];
            followers[previous]++;
            precedents[token]++;
            n1 += c[i] == 1 ? 1 : 0;
            n2 += c[i] == 2 ? 1 : 0;
        }
        long m1 = 0;
        long m2 = 0;
        long seen = 0;
        for (int p : precedents) {
            m1 += p == 1 ? 1 : 0;
            m2 += p == 2 ? 1 : 0;
            seen += p > 0 ? 1 : 0;
        }
        bigramDiscount = Double.isNaN(discount) ? estimate(n1, n2) : discount;
        unigramDiscount = Double.isNaN(discount) ? estimate(m1, m2) : discount;
        double distinct = keys.length;
        continuation = new double[v];
        for (int w = 0; w < v; w++) {
            continuation[w] = distinct == 0 ? 1.0 / v
                    : Math.max(precedents[w] - unigramDiscount, 0) / distinct + unigramDiscount * seen / distinct / v;
        }
    }

    /** Ney's absolute discount n1 / (n1 + 2 n2), or {@link #FALLBACK_DISCOUNT} when n1 is 0. */
    public static double estimate(long n1, long n2) {
        return n1 == 0 ? FALLBACK_DISCOUNT : n1 / (n1 + 2.0 * n2);
    }

    public double bigramDiscount() {
        return bigramDiscount;
    }

    public double unigramDiscount() {
        return unigramDiscount;
    }

    public double probability(int previous, int token) {
        long cv = contextCounts[previous];
        if (cv == 0) {
            return continuation[token];
        }
        double c = counts.bigram(previous, token);
        return Math.max(c - bigramDiscount, 0) / cv + bigramDiscount * followers[previous] / cv * continuation[token];
    }

    @Override
    public double logProb(int previous, int token) {
        return Math.log(probability(previous, token));
    }
}
