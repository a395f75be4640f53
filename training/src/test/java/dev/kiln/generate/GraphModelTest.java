package dev.kiln.generate;

import dev.kiln.model.GptModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding with a real (tiny, random) Kiln GPT against stepping the model by hand. */
class GraphModelTest {
    static ComputationGraph graph;
    static GraphModel model;

    @BeforeAll
    static void build() {
        graph = TinyGpt.model(11);
        model = new GraphModel(graph);
    }

    /** p(next | last T ids of {@code ids}) over the vocabulary, from one forward of GptModel.probabilities. */
    static double[] byHand(List<Integer> ids) {
        int t = TinyGpt.CONTEXT;
        List<Integer> w = ids.subList(Math.max(0, ids.size() - t), ids.size());
        int[][] rows = new int[1][t + 1];
        for (int i = 0; i < w.size(); i++) {
            rows[0][i] = w.get(i);
        }
        INDArray p = GptModel.probabilities(graph, rows);
        double[] out = new double[(int) p.size(1)];
        for (int v = 0; v < out.length; v++) {
            out[v] = p.getDouble(0, v, w.size() - 1);
        }
        return out;
    }

    @Test
    void readsContextAndVocabularyFromTheGraph() {
        assertEquals(TinyGpt.CONTEXT, model.contextLength());
        assertEquals(257, model.vocabSize());
    }

    @Test
    void paddingAfterTheLastRealTokenDoesNotChangeItsDistribution() {
        int[][] a = new int[1][TinyGpt.CONTEXT + 1];
        int[][] b = new int[1][TinyGpt.CONTEXT + 1];
        Arrays.fill(b[0], 200);
        for (int i = 0; i < 5; i++) {
            a[0][i] = b[0][i] = 70 + i;
        }
        INDArray pa = GptModel.probabilities(graph, a);
        INDArray pb = GptModel.probabilities(graph, b);
        for (int v = 0; v < 257; v++) {
            assertEquals(pa.getDouble(0, v, 4), pb.getDouble(0, v, 4), 1e-6);
        }
    }

    @Test
    void greedyEqualsArgmaxSteppingByHand() {
        // one short prompt and one longer than the context (the window keeps the last T tokens, and restarts at the
        // last T - T/4 when a token would make it longer than T)
        int[][] prompts = {{72, 105}, new int[TinyGpt.CONTEXT + 5]};
        Arrays.setAll(prompts[1], i -> 97 + i % 26);
        GenerationConfig cfg = TinyGpt.generation(Map.of("max-new-tokens", "10", "batch-size", "1"));
        for (int p = 0; p < prompts.length; p++) {
            Generator.Result r = new Generator(model, cfg, 0)
                    .generate(List.of(new Generator.Request(p, 0, prompts[p])), null).get(0);
            List<Integer> ids = new ArrayList<>(Arrays.stream(prompts[p]).boxed().toList());
            List<Integer> expected = new ArrayList<>();
            int start = Math.max(0, ids.size() - TinyGpt.CONTEXT);
            for (int step = 0; step < 10; step++) {
                if (ids.size() - start > TinyGpt.CONTEXT) {
                    start = ids.size() - (TinyGpt.CONTEXT - TinyGpt.CONTEXT / 4);
                }
                double[] probs = byHand(ids.subList(start, ids.size()));
                int best = 0;
                for (int v = 1; v < probs.length; v++) {
                    if (probs[v] > probs[best]) {
                        best = v;
                    }
                }
                if (best == 0) {
                    break; // end-of-text
                }
                ids.add(best);
                expected.add(best);
            }
            assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), r.tokens(), "prompt " + p);
        }
    }

    @Test
    void withTopK5NoSampledTokenIsOutsideTheModels5MostProbable() {
        GenerationConfig cfg = TinyGpt.generation(Map.of("do-sample", "true", "top-k", "5", "temperature", "3",
                "num-return-sequences", "4", "max-new-tokens", "8", "seed", "9"));
        int[] prompt = {84, 104, 101};
        List<Generator.Request> requests = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            requests.add(new Generator.Request(0, s, prompt));
        }
        int checked = 0;
        for (Generator.Result r : new Generator(model, cfg, 0).generate(requests, null)) {
            List<Integer> ids = new ArrayList<>(Arrays.stream(prompt).boxed().toList());
            for (int token : r.tokens()) {
                double[] probs = byHand(ids);
                double[] sorted = probs.clone();
                Arrays.sort(sorted);
                double fifth = sorted[sorted.length - 5];
                assertTrue(probs[token] >= fifth - 1e-7, "token " + token + " has p " + probs[token]
                        + ", below the 5th largest " + fifth);
                ids.add(token);
                checked++;
            }
        }
        assertTrue(checked >= 16, "checked " + checked + " tokens");
    }
}
