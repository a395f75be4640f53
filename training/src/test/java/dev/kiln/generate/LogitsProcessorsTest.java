package dev.kiln.generate;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LogitsProcessorsTest {
    private static final double NEG = Double.NEGATIVE_INFINITY;

    private static double[] logs(double... probs) {
        double[] s = new double[probs.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.log(probs[i]);
        }
        return s;
    }

    /** Ids whose score survived. */
    private static String kept(double[] scores) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] != NEG) {
                sb.append(sb.isEmpty() ? "" : ",").append(i);
            }
        }
        return sb.toString();
    }

    @Test
    void topKKeepsEveryTokenTiedWithTheKthScore() {
        double[] s = {5, 4, 4, 4, 1, 0};
        LogitsProcessors.topK(s, 2);
        assertEquals("0,1,2,3", kept(s));
        double[] t = {1, 3, 2, 0};
        LogitsProcessors.topK(t, 2);
        assertEquals("1,2", kept(t));
    }

    @Test
    void topKZeroOrAtLeastTheVocabularyKeepsAll() {
        double[] s = {1, 2, 3};
        LogitsProcessors.topK(s, 0);
        LogitsProcessors.topK(s, 3);
        assertArrayEquals(new double[]{1, 2, 3}, s);
    }

    @Test
    void topPKeepsTheSmallestSetWhoseMassReachesP() {
        // probabilities 0.5, 0.3, 0.15, 0.05 (stored out of order to check the sorting)
        double[] probs = {0.15, 0.5, 0.05, 0.3};
        Map<Double, String> expected = Map.of(0.1, "1", 0.45, "1", 0.75, "1,3", 0.81, "0,1,3", 0.96, "0,1,2,3", 1.0, "0,1,2,3");
        expected.forEach((p, ids) -> {
            double[] s = logs(probs);
            LogitsProcessors.topP(s, p);
            assertEquals(ids, kept(s), "top-p " + p);
        });
    }

    @Test
    void topPTakesEqualProbabilitiesByAscendingId() {
        double[] s = logs(0.25, 0.25, 0.25, 0.25);
        LogitsProcessors.topP(s, 0.5);
        assertEquals("0,1", kept(s));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOfSeenTokensOnce() {
        double[] s = {-1, -2, 3, 4};
        LogitsProcessors.repetitionPenalty(s, new int[]{0, 0, 2, 0}, 2.0);
        assertArrayEquals(new double[]{-2, -2, 1.5, 4}, s);
    }

    @Test
    void temperatureDividesScores() {
        double[] s = {-1, -2};
        LogitsProcessors.temperature(s, 0.5);
        assertArrayEquals(new double[]{-2, -4}, s);
    }

    @Test
    void topKRunsBeforeTopP() {
        // k = 2 keeps 0.4 and 0.3, renormalised 4/7 and 3/7: top-p 0.5 then keeps only the first.
        // (top-p first would keep both: 0.4 < 0.5.)
        double[] s = logs(0.4, 0.3, 0.2, 0.1);
        LogitsProcessors.apply(s, new int[0], TinyGpt.generation(Map.of("do-sample", "true", "top-k", "2", "top-p", "0.5")));
        assertEquals("0", kept(s));
    }

    @Test
    void temperatureRunsBeforeTopP() {
        // t = 0.5 squares the probabilities: 0.533, 0.3, 0.133, 0.033, so top-p 0.5 keeps one token (two without it).
        double[] s = logs(0.4, 0.3, 0.2, 0.1);
        LogitsProcessors.apply(s, new int[0], TinyGpt.generation(Map.of("do-sample", "true", "temperature", "0.5",
                "top-k", "0", "top-p", "0.5")));
        assertEquals("0", kept(s));
    }

    @Test
    void repetitionPenaltyRunsBeforeTopK() {
        // the penalty demotes token 0 below token 2, so top-k 2 keeps 1 and 2
        double[] s = logs(0.4, 0.35, 0.25);
        LogitsProcessors.apply(s, new int[]{0}, TinyGpt.generation(Map.of("do-sample", "true", "top-k", "2",
                "repetition-penalty", "2")));
        assertEquals("1,2", kept(s));
    }

    @Test
    void greedyAppliesOnlyTheRepetitionPenalty() {
        double[] s = logs(0.4, 0.3, 0.2, 0.1);
        double[] before = s.clone();
        LogitsProcessors.apply(s, new int[0], TinyGpt.generation(Map.of("top-k", "1", "top-p", "0.1", "temperature", "3")));
        assertArrayEquals(before, s);
    }

    @Test
    void theKthLargestOfTheHeapIsTheSortedCopysWithTiesCounted() {
        SplittableRandom random = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            double[] a = new double[1 + random.nextInt(300)];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextInt(trial % 2 == 0 ? 7 : 100000) - 3.5; // many ties on even trials
            }
            double[] sorted = a.clone();
            Arrays.sort(sorted);
            int k = 1 + random.nextInt(a.length);
            Assertions.assertEquals(sorted[a.length - k], LogitsProcessors.kthLargest(a, k),
                    "k " + k + " of " + a.length);
        }
    }
}
