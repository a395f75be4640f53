package dev.kiln.preprocess.dedup;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MinHashTest {

    @Test
    void wordShinglesIgnoreCasePunctuationAndSpacing() {
        assertArrayEquals(Shingles.words("The quick, brown fox jumps!", 3), Shingles.words("the QUICK brown\n fox   jumps", 3));
        assertEquals(3, Shingles.words("a b c d e", 3).length);
        assertEquals(1, Shingles.words("only two", 5).length, "shorter than n: one shingle");
        assertEquals(0, Shingles.words("  ... ", 5).length);
        assertEquals(Shingles.chars("Hello  World", 4).length, Shingles.chars("hello world", 4).length);
    }

    @Test
    void exactJaccard() {
        assertEquals(1.0 / 3, Shingles.jaccard(new long[]{1, 2, 3}, new long[]{2, 3, 4, 5, 6}), 1e-12);
        assertEquals(0.0, Shingles.jaccard(new long[]{1}, new long[]{2}));
    }

    @Test
    void signatureAgreementEstimatesJaccard() {
        Random rnd = new Random(5);
        MinHasher h = new MinHasher(256, 64, 4, 42);
        for (double target : new double[]{0.2, 0.5, 0.8}) {
            // Two sets of 2,000 random elements sharing a fraction chosen so that J = target.
            int shared = (int) Math.round(4000 * target / (1 + target));
            long[] a = new long[2000];
            long[] b = new long[2000];
            for (int i = 0; i < 2000; i++) {
                long common = rnd.nextLong();
                a[i] = i < shared ? common : rnd.nextLong();
                b[i] = i < shared ? common : rnd.nextLong();
            }
            long[] sa = Shingles.sortedDistinct(a);
            long[] sb = Shingles.sortedDistinct(b);
            double exact = Shingles.jaccard(sa, sb);
            double est = MinHasher.estimatedJaccard(h.signature(sa), h.signature(sb));
            // 256 permutations: standard error sqrt(J(1-J)/256) <= 0.032; allow four of them.
            assertEquals(exact, est, 0.13, "J=" + exact);
        }
    }

    @Test
    void identicalSetsShareEveryBandAndSeedsMatter() {
        long[] s = Shingles.words("one two three four five six seven eight nine ten", 2);
        MinHasher h = new MinHasher(128, 42, 3, 1);
        assertArrayEquals(h.bandKeys(h.signature(s)), h.bandKeys(h.signature(s.clone())));
        assertNotEquals(h.signature(s)[0], new MinHasher(128, 42, 3, 2).signature(s)[0]);
    }

    @Test
    void bandsAndRowsDerivedFromTheThreshold() {
        int[] br = LshBanding.derive(0.5, 128, 0.99);
        assertEquals(42, br[0]);
        assertEquals(3, br[1]);
        assertTrue(LshBanding.candidateProbability(0.5, br[0], br[1]) >= 0.99);
        assertTrue(LshBanding.candidateProbability(0.5, 128 / (br[1] + 1), br[1] + 1) < 0.99, "one more row would miss the target");
        int[] high = LshBanding.derive(0.8, 128, 0.99);
        assertTrue(high[1] > br[1], "a higher threshold affords more rows per band");
    }
}
