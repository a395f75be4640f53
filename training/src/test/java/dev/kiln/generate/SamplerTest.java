package dev.kiln.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    @Test
    void argmaxTakesTheLowestIdAmongTies() {
        assertEquals(1, Sampler.argmax(new double[]{0, 2, 1, 2}));
    }

    @Test
    void drawsFollowTheSoftmaxAndNeverARemovedToken() {
        double[] s = {Math.log(0.5), Double.NEGATIVE_INFINITY, Math.log(0.3), Math.log(0.2)};
        int[] counts = new int[4];
        SplittableRandom r = new SplittableRandom(1);
        int n = 40_000;
        for (int i = 0; i < n; i++) {
            counts[Sampler.sample(s, r.nextDouble())]++;
        }
        assertEquals(0, counts[1]);
        assertEquals(0.5, counts[0] / (double) n, 0.01);
        assertEquals(0.3, counts[2] / (double) n, 0.01);
        assertEquals(0.2, counts[3] / (double) n, 0.01);
        assertEquals(3, Sampler.sample(s, Math.nextDown(1.0)));
        assertEquals(0, Sampler.sample(s, 0.0));
    }

    @Test
    void withTopK5NoSampledTokenIsOutsideThe5MostProbable() {
        Random init = new Random(3);
        double[] logits = new double[100];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = init.nextGaussian();
        }
        Integer[] order = new Integer[logits.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Double.compare(logits[b], logits[a]));
        Set<Integer> top5 = Set.of(Arrays.copyOf(order, 5));
        SplittableRandom r = new SplittableRandom(5);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 5_000; i++) {
            double[] s = logits.clone();
            LogitsProcessors.temperature(s, 2.0); // flat, so tokens outside the top 5 would be drawn often
            LogitsProcessors.topK(s, 5);
            int t = Sampler.sample(s, r.nextDouble());
            assertTrue(top5.contains(t), "token " + t + " is not among the 5 most probable " + top5);
            seen.add(t);
        }
        assertEquals(top5, seen);
    }

    @Test
    void theRandomStreamDependsOnSeedPromptAndSequenceOnly() {
        assertEquals(Sampler.stream(7, 3, 1).nextLong(), Sampler.stream(7, 3, 1).nextLong());
        long base = Sampler.stream(7, 3, 1).nextLong();
        assertNotEquals(base, Sampler.stream(8, 3, 1).nextLong());
        assertNotEquals(base, Sampler.stream(7, 4, 1).nextLong());
        assertNotEquals(base, Sampler.stream(7, 3, 2).nextLong());
        assertNotEquals(Sampler.stream(7, 1, 0).nextLong(), Sampler.stream(7, 0, 1).nextLong());
    }
}
