package dev.kiln.evaluate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver's side of scoring: batches scored anywhere, in any order, add up as {@link DocumentScorer} adds them. */
class ScoredBatchesTest {
    static final int T = 4;
    static final int EOT = 0;
    static final int B = 2;

    @Test
    void shuffledBatchesAddUpExactlyAsTheDocumentScorerAddsThem() {
        NgramScorer uniform = new NgramScorer.Uniform(7);
        NgramScorer skewed = new NgramScorer() {
            @Override
            public double logProb(int previous, int token) {
                return -Math.log(1 + 0.37 * token + 0.11 * previous);
            }
        };
        List<TokenScorer> scorers = List.of(uniform, skewed);
        List<int[]> documents = List.of(ids(3), ids(29), ids(1), ids(17));
        DocumentScorer plain = new DocumentScorer(T, EOT, B, d -> new byte[d.length], scorers);

        List<Evaluation.ItemResult> results = new ArrayList<>();
        double[][] logProbs = DocumentScorer.logProbs(B, T);
        for (int d = 0; d < documents.size(); d++) {
            int[] doc = documents.get(d);
            String group = d % 2 == 0 ? "even" : "odd";
            plain.add(doc, group);
            List<List<RollingWindows.Window>> batches = DocumentScorer.batches(doc, T, EOT, B);
            Evaluation.DocumentPlan plan = new Evaluation.DocumentPlan(group, DocumentScorer.Counts.of(doc, x -> new byte[x.length]),
                    batches.size());
            for (int b = 0; b < batches.size(); b++) {
                double[] nll = new double[scorers.size()];
                for (int s = 0; s < scorers.size(); s++) {
                    nll[s] = DocumentScorer.batchNll(scorers.get(s), batches.get(b), logProbs);
                }
                results.add(new Evaluation.ItemResult(d / 2, d % 2, b, 0, nll, b == 0 ? plan : null, b % 3));
            }
        }
        assertEquals(1 + 4 + 1 + 3, results.size(), "windows of 4 tokens, 2 per batch: 3, 29, 1 and 17 tokens are 1, 4, 1 and 3 batches");
        Collections.shuffle(results, new Random(7));
        results.sort(Evaluation.ItemResult.ORDER);
        ScoreSums sums = new ScoreSums(scorers.size());
        Evaluation.Widest widest = Evaluation.addDocuments(results, scorers.size(), List.of(sums));
        assertEquals(plain.stats(), sums.stats(), "bit-identical to the single-JVM scorer");
        assertEquals(plain.groupStats(), sums.groupStats());
        assertEquals(new Evaluation.Widest(4, 4, 3), widest, "the 29-token document: 4 batches, in tasks 0, 1, 2");

        // A batch lost in the middle of the 29-token document (sorted positions 1-4), or its batch 0 (the counts).
        for (int lost : new int[]{3, 1}) {
            List<Evaluation.ItemResult> partial = new ArrayList<>(results);
            partial.remove(lost);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Evaluation.addDocuments(partial, scorers.size(), List.of(new ScoreSums(scorers.size()))));
            assertTrue(e.getMessage().startsWith("chunk 0, document 1: expected"), e.getMessage());
        }
    }

    private static int[] ids(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = 1 + (i * 5) % 6;
        }
        return out;
    }
}
