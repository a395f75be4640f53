package dev.kiln.evaluate.text;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BleuTest {
    /**
     * sacreBLEU's own unit test (test/test_bleu.py, test_scoring): {@code BLEU.compute_bleu(correct=[9, 7, 5, 3],
     * total=[10, 8, 6, 4], sys_len=11, ref_len=11)} scores 0.8375922397 in the fraction scale; by hand:
     * BP = 1 and exp((ln 0.9 + ln 0.875 + ln(5/6) + ln 0.75) / 4) = 0.83759224.
     */
    @Test
    void computeBleuTestVector() {
        Bleu.Score s = Bleu.score(new BleuStats(11, 11, new long[]{9, 7, 5, 3}, new long[]{10, 8, 6, 4}));
        assertEquals(0.8375922397, s.bleu(), 1e-10);
        assertEquals(1.0, s.brevityPenalty());
        double byHand = Math.exp((Math.log(0.9) + Math.log(0.875) + Math.log(5.0 / 6) + Math.log(0.75)) / 4);
        assertEquals(byHand, s.bleu(), 1e-15);
    }

    /** sacreBLEU's test/test_bleu.py, test_case_statistics: matched [4, 2, 1, 0] of [6, 5, 4, 3] n-grams. */
    @Test
    void statisticsTestVector() {
        BleuStats s = Bleu.segment("am I am a character sequence", List.of("I am a symbol string sequence a a"));
        assertArrayEquals(new long[]{4, 2, 1, 0}, s.correct());
        assertArrayEquals(new long[]{6, 5, 4, 3}, s.total());
        assertEquals(6, s.hypLen());
        assertEquals(8, s.refLen());
    }

    /** sacreBLEU's README example: {@code sacrebleu.corpus_bleu(sys, refs)} prints "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)". */
    @Test
    void readmeExample() {
        List<String> sys = List.of("The dog bit the man.", "It wasn't surprising.", "The man had just bitten him.");
        List<List<String>> refs = List.of(
                List.of("The dog bit the man.", "It was not unexpected.", "The man bit him first."),
                List.of("The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."));
        Bleu.Score s = Bleu.corpus(sys, refs);
        assertEquals(0.48530827, s.bleu(), 1e-8);
        assertEquals(17, s.stats().hypLen());
        assertEquals(18, s.stats().refLen());
        // By hand: 13a splits off the final periods, so the hypotheses have 6 + 4 + 7 = 17 tokens; the closest
        // references have 6, 5 ("It was not unexpected ." vs "No one was surprised .": both 5) and 7 tokens.
        // Unigram matches: 6 + 2 ("It", ".") + 6 (all but "just") = 14 of 17 = 82.4%.
        assertArrayEquals(new long[]{14, 7, 5, 3}, s.stats().correct());
        assertArrayEquals(new long[]{17, 14, 11, 8}, s.stats().total());
        assertEquals(Math.exp(1 - 18.0 / 17), s.brevityPenalty(), 1e-15);
    }

    @Test
    void statisticsAddAcrossPartitions() {
        List<String> sys = List.of("The dog bit the man.", "It wasn't surprising.", "The man had just bitten him.");
        List<String> r1 = List.of("The dog bit the man.", "It was not unexpected.", "The man bit him first.");
        List<String> r2 = List.of("The dog had bit the man.", "No one was surprised.", "The man had bitten the dog.");
        BleuStats merged = Bleu.segment(sys.get(0), List.of(r1.get(0), r2.get(0)))
                .plus(Bleu.segment(sys.get(2), List.of(r1.get(2), r2.get(2))))
                .plus(Bleu.segment(sys.get(1), List.of(r1.get(1), r2.get(1))));
        assertEquals(Bleu.corpus(sys, List.of(r1, r2)).stats(), merged);
        assertEquals(BleuStats.ZERO.plus(merged), merged);
    }

    @Test
    void expSmoothingAndEdgeCases() {
        // "a b c" vs "a b d": 2/3 unigrams, 1/2 bigrams, 0/1 trigrams -> 1/(2*1), no 4-grams: total 0 breaks
        // the loop with p4 = 0, so BLEU is 0, as sacreBLEU (no effective order) gives for a 3-token segment.
        Bleu.Score s = Bleu.corpus(List.of("a b c"), List.of(List.of("a b d")));
        assertArrayEquals(new double[]{2.0 / 3, 0.5, 0.5, 0.0}, s.precisions(), 1e-15);
        assertEquals(0.0, s.bleu(), 1e-300);
        // Four tokens, trigram and 4-gram unmatched: p3 = 1/(2*2), p4 = 1/(4*1).
        Bleu.Score t = Bleu.corpus(List.of("a b c d"), List.of(List.of("a b x d")));
        assertArrayEquals(new double[]{0.75, 1.0 / 3, 0.25, 0.25}, t.precisions(), 1e-15);
        assertEquals(Math.exp((Math.log(0.75) + Math.log(1.0 / 3) + Math.log(0.25) + Math.log(0.25)) / 4), t.bleu(), 1e-15);
        // No match at all, and an empty hypothesis: 0 (brevity penalty 0).
        assertEquals(0.0, Bleu.corpus(List.of("x y z w"), List.of(List.of("a b c d"))).bleu());
        assertEquals(0.0, Bleu.corpus(List.of(""), List.of(List.of("a b c d"))).brevityPenalty());
    }

    @Test
    void emptyReferencesAreLeftOutAndSegmentsRightStripped() {
        List<String> sys = List.of("The dog bit the man.", "It wasn't surprising.");
        List<String> r1 = List.of("The dog bit the man.", "It was not unexpected.");
        List<String> r2 = List.of("The dog had bit the man.", "");
        List<String> r2null = Arrays.asList("The dog had bit the man.", null);
        BleuStats expected = Bleu.segment(sys.get(0), List.of(r1.get(0), r2.get(0))).plus(Bleu.segment(sys.get(1), List.of(r1.get(1))));
        assertEquals(expected, Bleu.corpus(sys, List.of(r1, r2)).stats());
        assertEquals(expected, Bleu.corpus(sys, List.of(r1, r2null)).stats());
        Assertions.assertThrows(IllegalArgumentException.class,
                () -> Bleu.segment("a b", Arrays.asList("", null)));
        // sacreBLEU right-strips before 13a, so a trailing "-\n" is a hyphen, not a joined line break.
        assertEquals(Bleu.segment("well-", List.of("well-")), Bleu.segment("well-\n", List.of("well- ")));
        assertEquals(1, Bleu.segment("well-\n", List.of("well-")).correct()[0]);
    }

    @Test
    void closestReferenceLengthPrefersTheShorterOnATie() {
        assertEquals(4, Bleu.closestRefLength(5, List.of(6, 4)));
        assertEquals(6, Bleu.closestRefLength(6, List.of(4, 6, 9)));
    }
}
