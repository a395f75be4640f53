package dev.kiln.generate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoding loop against a fake model whose next token is (last + 1) mod V, with 90% of the mass. */
class GeneratorTest {
    static final int V = 10;
    static final int EOT = 9;

    static class Counting implements LanguageModel {
        final int context;
        final List<int[]> windows = new ArrayList<>();
        final List<Integer> batchSizes = new ArrayList<>();

        Counting(int context) {
            this.context = context;
        }

        @Override
        public int contextLength() {
            return context;
        }

        @Override
        public int vocabSize() {
            return V;
        }

        @Override
        public double[][] nextLogits(List<int[]> batch) {
            batchSizes.add(batch.size());
            double[][] out = new double[batch.size()][V];
            for (int i = 0; i < batch.size(); i++) {
                int[] w = batch.get(i);
                windows.add(w);
                int next = (w[w.length - 1] + 1) % V;
                for (int v = 0; v < V; v++) {
                    out[i][v] = Math.log(v == next ? 0.9 : 0.1 / (V - 1));
                }
            }
            return out;
        }
    }

    private static List<Generator.Result> run(LanguageModel m, Map<String, String> cfg, int[]... prompts) {
        List<Generator.Request> requests = new ArrayList<>();
        GenerationConfig c = TinyGpt.generation(cfg);
        for (int p = 0; p < prompts.length; p++) {
            for (int s = 0; s < c.numReturnSequences(); s++) {
                requests.add(new Generator.Request(p, s, prompts[p]));
            }
        }
        return new Generator(m, c, EOT).generate(requests, null);
    }

    @Test
    void greedyStopsAfterMaxNewTokens() {
        Generator.Result r = run(new Counting(4), Map.of("max-new-tokens", "5"), new int[]{0}).get(0);
        assertArrayEquals(new int[]{1, 2, 3, 4, 5}, r.tokens());
        assertEquals(Generator.StopReason.LENGTH, r.stop());
    }

    @Test
    void endOfTextEndsASequenceAndIsNotPartOfIt() {
        Generator.Result r = run(new Counting(4), Map.of("max-new-tokens", "20"), new int[]{5}).get(0);
        assertArrayEquals(new int[]{6, 7, 8}, r.tokens());
        assertEquals(Generator.StopReason.END_OF_TEXT, r.stop());
    }

    @Test
    void maxLengthCountsThePrompt() {
        Generator.Result r = run(new Counting(4), Map.of("max-length", "5"), new int[]{0, 1, 2}).get(0);
        assertArrayEquals(new int[]{3, 4}, r.tokens());
        Generator.Result none = run(new Counting(4), Map.of("max-length", "2"), new int[]{0, 1, 2}).get(0);
        assertEquals(0, none.tokens().length);
        assertEquals(Generator.StopReason.LENGTH, none.stop());
    }

    @Test
    void aLongPromptKeepsItsLastTokensAndAFullWindowRestartsAtItsLastThreeQuarters() {
        Counting m = new Counting(4);
        Generator.Result r = run(m, Map.of("max-new-tokens", "3"), new int[]{0, 1, 2, 3, 4, 5}).get(0);
        assertArrayEquals(new int[]{2, 3, 4, 5}, m.windows.get(0));
        assertArrayEquals(new int[]{4, 5, 6}, m.windows.get(1)); // 5 tokens > 4: the last 4 - 4/4 = 3
        assertArrayEquals(new int[]{4, 5, 6, 7}, m.windows.get(2));
        assertEquals(3, m.windows.size());
        assertArrayEquals(new int[]{6, 7, 8}, r.tokens());
    }

    /** A Counting model whose decoder records what it is fed: "row:tokens" with F for a fresh window. */
    static final class Recording extends Counting {
        final List<String> feeds = new ArrayList<>();

        Recording(int context) {
            super(context);
        }

        @Override
        public Decoder decoder(int rows) {
            Decoder inner = new Decoder.Recomputing(this, rows);
            return (r, tokens, fresh) -> {
                for (int i = 0; i < r.length; i++) {
                    feeds.add(r[i] + ":" + Arrays.toString(tokens[i]) + (fresh[i] ? "F" : ""));
                }
                return inner.extend(r, tokens, fresh);
            };
        }
    }

    @Test
    void theDecoderGetsEachWindowOnceThenOneTokenPerStepAndAFreedRowTakesTheNextSequence() {
        Recording m = new Recording(4);
        List<Generator.Result> r = run(m, Map.of("max-new-tokens", "5", "batch-size", "1"), new int[]{1, 2}, new int[]{5});
        assertEquals(List.of("0:[1, 2]F", "0:[3]", "0:[4]", "0:[3, 4, 5]F", "0:[6]", // 3..7; 5 tokens > 4: a slide
                "0:[5]F", "0:[6]", "0:[7]", "0:[8]"), m.feeds);                  // 6, 7, 8, then end-of-text
        assertArrayEquals(new int[]{3, 4, 5, 6, 7}, r.get(0).tokens());
        assertArrayEquals(new int[]{6, 7, 8}, r.get(1).tokens());
    }

    @Test
    void anEmptyPromptStartsFromEndOfText() {
        Counting m = new Counting(4);
        Generator.Result r = run(m, Map.of("max-new-tokens", "2"), new int[0]).get(0);
        assertArrayEquals(new int[]{EOT}, m.windows.get(0));
        assertArrayEquals(new int[]{0, 1}, r.tokens());
    }

    @Test
    void sampledTextDoesNotDependOnBatchingOrOnTheOtherPrompts() {
        Map<String, String> sample = Map.of("do-sample", "true", "num-return-sequences", "3", "max-new-tokens", "12",
                "top-k", "0", "seed", "42");
        int[][] prompts = {{1}, {2, 3}, {4}};
        List<Generator.Result> one = run(new Counting(4), with(sample, "batch-size", "1"), prompts);
        Counting batched = new Counting(4);
        List<Generator.Result> four = run(batched, with(sample, "batch-size", "4"), prompts);
        assertTrue(batched.batchSizes.contains(4));
        assertEquals(9, one.size());
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i).tokens(), four.get(i).tokens());
        }
        // prompt 2 alone (as index 2) gives the same sequences as with the others
        List<Generator.Request> alone = List.of(new Generator.Request(2, 0, prompts[2]), new Generator.Request(2, 1, prompts[2]));
        List<Generator.Result> a = new Generator(new Counting(4), TinyGpt.generation(sample), EOT).generate(alone, null);
        assertArrayEquals(one.get(6).tokens(), a.get(0).tokens());
        assertArrayEquals(one.get(7).tokens(), a.get(1).tokens());
        // the three sequences of a prompt differ (10% of the mass is spread over the other tokens)
        assertNotEquals(Arrays.toString(one.get(0).tokens()), Arrays.toString(one.get(1).tokens()));
    }

    @Test
    void aContextOfOneRecomputesItsOneTokenWindowAtEveryStep() {
        Recording m = new Recording(1);
        Generator.Result r = run(m, Map.of("max-new-tokens", "3"), new int[]{1, 2}).get(0);
        assertEquals(List.of("0:[2]F", "0:[3]F", "0:[4]F"), m.feeds);
        assertArrayEquals(new int[]{3, 4, 5}, r.tokens());
    }

    private static Map<String, String> with(Map<String, String> m, String k, String v) {
        Map<String, String> out = new HashMap<>(m);
        out.put(k, v);
        return out;
    }
}
