package dev.kiln.evaluate.text;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RougeTest {
    static void assertScore(double p, double r, double f, Rouge.Score s) {
        assertEquals(p, s.precision(), 1e-12, "precision");
        assertEquals(r, s.recall(), 1e-12, "recall");
        assertEquals(f, s.fmeasure(), 1e-12, "fmeasure");
    }

    /**
     * rouge-score's rouge_scorer_test.py: testRouge1, testRouge2, testRougeLConsecutive, testRougeLNonConsecutive,
     * testMultipleRougeTypes and the *Empty cases.
     */
    @Test
    void rougeScoreTestVectors() {
        assertScore(1, 1.0 / 3, 1.0 / 2, Rouge.score("testing one two", "testing").get(Rouge.Type.ROUGE1));
        // target bigrams "testing one", "one two"; the prediction's one bigram matches: P 1, R 1/2, F 2/3.
        assertScore(1, 1.0 / 2, 2.0 / 3, Rouge.score("testing one two", "testing one").get(Rouge.Type.ROUGE2));
        // LCS 2 of 2 prediction tokens and 3 target tokens: P 1, R 2/3, F 4/5, with or without a gap.
        assertScore(1, 2.0 / 3, 4.0 / 5, Rouge.score("testing one two", "testing one").get(Rouge.Type.ROUGEL));
        assertScore(1, 2.0 / 3, 4.0 / 5, Rouge.score("testing one two", "testing two").get(Rouge.Type.ROUGEL));
        assertScore(1, 2.0 / 3, 4.0 / 5, Rouge.score("testing one two", "testing one").get(Rouge.Type.ROUGE1));
    }

    @Test
    void casesByHand() {
        Map<Rouge.Type, Rouge.Score> s = Rouge.score("The cat sat on the mat.", "the cat lay on the mat");
        // 6 tokens each; unigrams: the x2, cat, on, mat match (5); bigrams: the-cat, on-the, the-mat (3 of 5);
        // LCS: the cat on the mat (5).
        assertScore(5.0 / 6, 5.0 / 6, 5.0 / 6, s.get(Rouge.Type.ROUGE1));
        assertScore(3.0 / 5, 3.0 / 5, 3.0 / 5, s.get(Rouge.Type.ROUGE2));
        assertScore(5.0 / 6, 5.0 / 6, 5.0 / 6, s.get(Rouge.Type.ROUGEL));
        // Repeated words are clipped: target "a a b" vs prediction "a a a a": overlap 2, P 2/4, R 2/3, F 4/7.
        assertScore(0.5, 2.0 / 3, 4.0 / 7, Rouge.score("a a b", "a a a a").get(Rouge.Type.ROUGE1));
        // Order matters for L only: reversed tokens share all unigrams, no bigram, LCS 1.
        Map<Rouge.Type, Rouge.Score> rev = Rouge.score("one two three", "three two one");
        assertScore(1, 1, 1, rev.get(Rouge.Type.ROUGE1));
        assertScore(0, 0, 0, rev.get(Rouge.Type.ROUGE2));
        assertScore(1.0 / 3, 1.0 / 3, 1.0 / 3, rev.get(Rouge.Type.ROUGEL));
    }

    @Test
    void tokenisationAndEmptyText() {
        assertEquals(List.of("don", "t", "stop", "3", "14"), Rouge.tokens("Don't STOP: 3.14!"));
        assertEquals(List.of("caf"), Rouge.tokens("Café"));
        assertEquals(List.of(), Rouge.tokens("中文文本"));
        for (Rouge.Score s : Rouge.score("testing one two", "").values()) {
            assertScore(0, 0, 0, s);
        }
    }

    @Test
    void sumsGiveTheMeanOfPerSegmentScores() {
        Rouge.Sums a = Rouge.Sums.of(Rouge.score("testing one two", "testing"));
        Rouge.Sums b = Rouge.Sums.of(Rouge.score("testing one two", "testing one two"));
        Rouge.Sums s = a.plus(b);
        assertEquals(2, s.segments());
        assertScore(1, (1.0 / 3 + 1) / 2, (0.5 + 1) / 2, s.mean(Rouge.Type.ROUGE1));
        assertEquals(s, Rouge.Sums.ZERO.plus(b).plus(a));
    }
}
