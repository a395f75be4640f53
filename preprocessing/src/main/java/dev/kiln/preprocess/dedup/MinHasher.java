package dev.kiln.preprocess.dedup;

import java.io.Serializable;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * MinHash signatures and LSH band keys. Permutation i is the multiply-add-shift hash {@code (a_i * x + b_i) >>> 32}
 * (a_i odd) of the already well-mixed 64-bit shingle hash x; the signature keeps, per permutation, the minimum over
 * the document's shingles. Two signatures agree at a position with probability equal to the sets' Jaccard similarity.
 */
public final class MinHasher implements Serializable {
    private final long[] a;
    private final long[] b;
    private final int bands;
    private final int rows;

    public MinHasher(int permutations, int bands, int rows, long seed) {
        if (bands * rows > permutations) {
            throw new IllegalArgumentException("bands x rows exceeds permutations");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        a = new long[permutations];
        b = new long[permutations];
        for (int i = 0; i < permutations; i++) {
            a[i] = rnd.nextLong() | 1L;
            b[i] = rnd.nextLong();
        }
        this.bands = bands;
        this.rows = rows;
    }

    public MinHasher(MinHashConfig c) {
        this(c.permutations(), c.bands(), c.rows(), c.seed());
    }

    /** The signature of a non-empty shingle set: one unsigned 32-bit minimum per permutation. */
    public int[] signature(long[] shingles) {
        int k = a.length;
        long[] min = new long[k];
        Arrays.fill(min, Long.MAX_VALUE);
        long[] a = this.a;
        long[] b = this.b;
        for (long x : shingles) {
            for (int i = 0; i < k; i++) {
                long v = (a[i] * x + b[i]) >>> 32;
                if (v < min[i]) {
                    min[i] = v;
                }
            }
        }
        int[] sig = new int[k];
        for (int i = 0; i < k; i++) {
            sig[i] = (int) min[i];
        }
        return sig;
    }

    /** One 64-bit bucket key per band: a hash of the band's index and its rows' values. */
    public long[] bandKeys(int[] sig) {
        long[] keys = new long[bands];
        for (int band = 0; band < bands; band++) {
            long h = Shingles.mix(0x9E3779B97F4A7C15L * (band + 1));
            for (int r = band * rows, end = r + rows; r < end; r++) {
                h = Shingles.mix(h * 31 + (sig[r] & 0xFFFFFFFFL));
            }
            keys[band] = h;
        }
        return keys;
    }

    /** The fraction of equal signature positions: an unbiased estimate of the Jaccard similarity. */
    public static double estimatedJaccard(int[] s, int[] t) {
        int eq = 0;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == t[i]) {
                eq++;
            }
        }
        return (double) eq / s.length;
    }
}
