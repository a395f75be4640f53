package dev.kiln.evaluate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The baselines on a hand-made stream over V = 5 (ids 0-3 and end-of-text 4), counted and computed by hand.
 * Documents "0 1 0 1" and "0 2": scored bigrams (EOT,0) (0,1) (1,0) (0,1) | (EOT,0) (0,2).
 */
class NgramBaselinesTest {
    static final int V = 5;
    static final int EOT = 4;

    static NgramCounts counts() {
        NgramCounts.Counter c = new NgramCounts.Counter(V, EOT);
        c.addDocument(new int[]{0, 1, 0, 1});
        c.addDocument(new int[]{0, 2});
        return c.counts();
    }

    @Test
    void countsAreThoseOfTheScoredPairs() {
        NgramCounts n = counts();
        assertEquals(6, n.tokens());
        assertEquals(List.of(3L, 2L, 1L, 0L, 0L), Arrays.stream(n.unigrams()).boxed().toList());
        assertEquals(2, n.bigram(EOT, 0));
        assertEquals(2, n.bigram(0, 1));
        assertEquals(1, n.bigram(1, 0));
        assertEquals(1, n.bigram(0, 2));
        assertEquals(0, n.bigram(2, 0));
        assertEquals(4, n.distinctBigrams());
        // Counting in two halves and merging gives the same counts.
        NgramCounts.Counter a = new NgramCounts.Counter(V, EOT);
        a.addDocument(new int[]{0, 1, 0, 1});
        NgramCounts.Counter b = new NgramCounts.Counter(V, EOT);
        b.addDocument(new int[]{0, 2});
        NgramCounts merged = b.counts().plus(a.counts());
        assertEquals(n.tokens(), merged.tokens());
        for (int p = 0; p < V; p++) {
            for (int w = 0; w < V; w++) {
                assertEquals(n.bigram(p, w), merged.bigram(p, w));
            }
        }
    }

    @Test
    void uniformAndAddOneUnigram() {
        assertEquals(Math.log(1.0 / 5), new NgramScorer.Uniform(V).logProb(0, 3), 1e-15);
        NgramScorer.UnigramAddOne u = new NgramScorer.UnigramAddOne(counts());
        // (c + 1) / (N + V) with N = 6, V = 5
        assertEquals(Math.log(4.0 / 11), u.logProb(EOT, 0), 1e-15);
        assertEquals(Math.log(3.0 / 11), u.logProb(2, 1), 1e-15);
        assertEquals(Math.log(1.0 / 11), u.logProb(0, 3), 1e-15);
    }

    @Test
    void kneserNeyBigramByHand() {
        KneserNeyBigram kn = new KneserNeyBigram(counts(), Double.NaN);
        // Bigram count-of-counts: n1 = 2 ((1,0), (0,2)), n2 = 2 ((EOT,0), (0,1)) -> D2 = 2 / (2 + 4) = 1/3.
        assertEquals(1.0 / 3, kn.bigramDiscount(), 1e-15);
        // Continuation counts N1+(. w): w=0: {EOT, 1} -> 2; w=1: {0} -> 1; w=2: {0} -> 1; others 0.
        // m1 = 2, m2 = 1 -> D1 = 2 / (2 + 2) = 1/2. N1+(. .) = 4 distinct bigrams, 3 tokens seen as continuations.
        assertEquals(0.5, kn.unigramDiscount(), 1e-15);
        double[] cont = new double[V];
        cont[0] = (2 - 0.5) / 4 + 0.5 * 3 / 4 / 5;   // 0.375 + 0.075 = 0.45
        cont[1] = (1 - 0.5) / 4 + 0.5 * 3 / 4 / 5;   // 0.2
        cont[2] = cont[1];
        cont[3] = 0.5 * 3 / 4 / 5;                   // 0.075
        cont[4] = cont[3];
        assertEquals(1.0, cont[0] + cont[1] + cont[2] + cont[3] + cont[4], 1e-15);
        // Context 0: c(0) = 3 (followed by 1, 1, 2), N1+(0 .) = 2.
        assertEquals((2 - 1.0 / 3) / 3 + (1.0 / 3) * 2 / 3 * cont[1], kn.probability(0, 1), 1e-15);
        assertEquals((1 - 1.0 / 3) / 3 + (1.0 / 3) * 2 / 3 * cont[2], kn.probability(0, 2), 1e-15);
        assertEquals((1.0 / 3) * 2 / 3 * cont[3], kn.probability(0, 3), 1e-15);
        // Context EOT: c = 2, one follower (0).
        assertEquals((2 - 1.0 / 3) / 2 + (1.0 / 3) * 1 / 2 * cont[0], kn.probability(EOT, 0), 1e-15);
        // Context 2 never seen as a context: the continuation distribution.
        assertEquals(cont[3], kn.probability(2, 3), 1e-15);
        // Every context's distribution sums to 1.
        for (int p = 0; p < V; p++) {
            double sum = 0;
            for (int w = 0; w < V; w++) {
                sum += kn.probability(p, w);
            }
            assertEquals(1.0, sum, 1e-12, "context " + p);
        }
    }

    @Test
    void fixedDiscountAndTheEstimateFallback() {
        KneserNeyBigram kn = new KneserNeyBigram(counts(), 0.75);
        assertEquals(0.75, kn.bigramDiscount());
        assertEquals(0.75, kn.unigramDiscount());
        assertEquals(0.75, KneserNeyBigram.estimate(0, 5));
        assertEquals(1.0, KneserNeyBigram.estimate(3, 0));
    }

    @Test
    void scoredThroughTheSameMetricCodeAsTheModel() {
        // The document "0 1 0 1" scored by the add-one unigram with windows of 3: nll = -ln(4/11) - ln(3/11) * 2 - ln(4/11)
        NgramScorer.UnigramAddOne u = new NgramScorer.UnigramAddOne(counts());
        DocumentScorer s = new DocumentScorer(3, EOT, 2, ids -> "a b".getBytes(StandardCharsets.UTF_8), List.of(u));
        s.add(new int[]{0, 1, 0, 1});
        LmStats st = s.stats().get(0);
        assertEquals(-2 * Math.log(4.0 / 11) - 2 * Math.log(3.0 / 11), st.nll(), 1e-12);
        assertEquals(4, st.tokens());
        assertEquals(3, st.bytes());
        assertEquals(2, st.words());
        assertEquals(1, st.documents());
    }
}
