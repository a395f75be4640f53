package dev.kiln.evaluate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LmStatsTest {
    @Test
    void metricsAreRatiosOfSums() {
        // Two documents: 10 tokens, 40 bytes, 8 words, nll 20; and 30 tokens, 80 bytes, 12 words, nll 90.
        LmStats a = new LmStats(20, 10, 40, 8, 1);
        LmStats b = new LmStats(90, 30, 80, 12, 1);
        LmStats s = a.plus(b);
        assertEquals(new LmStats(110, 40, 120, 20, 2), s);
        assertEquals(110.0 / 40, s.loss(), 1e-15);
        assertEquals(Math.exp(110.0 / 40), s.tokenPerplexity(), 1e-12);
        assertEquals(Math.exp(110.0 / 20), s.wordPerplexity(), 1e-9);
        assertEquals(Math.exp(110.0 / 120), s.bytePerplexity(), 1e-12);
        assertEquals(110.0 / (120 * Math.log(2)), s.bitsPerByte(), 1e-15);
        // Not the mean of the per-document values (what lm-eval's users get wrong):
        double meanBpb = (a.bitsPerByte() + b.bitsPerByte()) / 2;
        assertEquals(1.32247, s.bitsPerByte(), 1e-5);
        assertEquals(1.17219, meanBpb, 1e-5);
    }

    @Test
    void zeroIsTheIdentity() {
        LmStats a = new LmStats(1.5, 2, 3, 4, 5);
        assertEquals(a, LmStats.ZERO.plus(a));
        assertEquals(a, a.plus(LmStats.ZERO));
    }
}
