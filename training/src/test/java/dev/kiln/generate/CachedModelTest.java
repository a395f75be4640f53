package dev.kiln.generate;

import com.typesafe.config.Config;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.train.Pretraining;
import dev.kiln.train.SotuShards;
import dev.kiln.train.TinyRuns;
import dev.kiln.train.TrainConfig;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The KV-cached path ({@link CachedModel}) against the full forward ({@link GraphModel}, the reference) on a real
 * checkpoint: a 2-layer GPT pre-trained in the test on byte-level SOTU shards (context 64), restored from its
 * model.zip as {@code kiln generate} restores it.
 */
class CachedModelTest {
    @TempDir
    static java.nio.file.Path tmp;
    static ComputationGraph graph;
    static String speech;

    @BeforeAll
    static void pretrain() throws IOException {
        Path shards = SotuShards.write(tmp.resolve("shards"), TinyRuns.CONTEXT, 20);
        java.nio.file.Path out = tmp.resolve("pretrain");
        Config c = TinyRuns.config(shards.toString(), out.toString(), Map.of("steps", "60",
                "validation.every", "0", "checkpoint.every", "0"));
        Path last = Pretraining.run(null, TrainConfig.from(c), TinyRuns.lineage(c), false).lastCheckpoint();
        graph = GenerationCheckpoint.restore(Files.readAllBytes(java.nio.file.Path.of(last.toUri().getPath(), "model.zip")));
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.sotu())) {
            speech = Files.readString(s.filter(p -> p.toString().endsWith(".txt")).sorted().skip(30).findFirst().orElseThrow());
        }
    }

    /** The first {@code n} bytes of the speech from {@code offset}, as byte-level ids. */
    static int[] ids(int offset, int n) {
        byte[] b = speech.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = b[offset + i] & 0xff;
        }
        return out;
    }

    @Test
    void eachCachedStepGivesTheLogitsOfTheFullForwardAtItsLastPosition() {
        CachedModel cached = new CachedModel(graph);
        GraphModel full = new GraphModel(graph);
        int[] text = ids(200, TinyRuns.CONTEXT);
        int[] length = {5, 23}; // two rows of different lengths, prefilled together, then stepped until full
        Decoder d = cached.decoder(2);
        double[][] latest = d.extend(new int[]{0, 1}, new int[][]{Arrays.copyOf(text, 5), Arrays.copyOf(text, 23)},
                new boolean[]{true, true});
        double maxDiff = 0;
        int compared = 0;
        while (true) {
            double[][] want = full.nextLogits(List.of(Arrays.copyOf(text, length[0]), Arrays.copyOf(text, length[1])));
            for (int r = 0; r < 2; r++) {
                for (int v = 0; v < want[r].length; v++) {
                    maxDiff = Math.max(maxDiff, Math.abs(want[r][v] - latest[r][v]));
                }
                compared++;
            }
            int[] rows = IntStream.range(0, 2).filter(r -> length[r] < TinyRuns.CONTEXT).toArray();
            if (rows.length == 0) {
                break;
            }
            int[][] next = Arrays.stream(rows).mapToObj(r -> new int[]{text[length[r]]}).toArray(int[][]::new);
            double[][] stepped = d.extend(rows, next, new boolean[rows.length]);
            for (int i = 0; i < rows.length; i++) {
                latest[rows[i]] = stepped[i];
                length[rows[i]]++;
            }
        }
        assertEquals(2 * (TinyRuns.CONTEXT - 5 + 1), compared);
        assertTrue(maxDiff < 1e-4, "largest logit difference " + maxDiff);
    }

    @Test
    void aRowsLogitsAreBitForBitTheSameAloneAndInABatch() {
        int[] text = ids(700, 40);
        Decoder alone = new CachedModel(graph).decoder(1);
        Decoder batch = new CachedModel(graph).decoder(3);
        double[][] a = alone.extend(new int[]{0}, new int[][]{Arrays.copyOf(text, 12)}, new boolean[]{true});
        double[][] b = batch.extend(new int[]{2, 0, 1}, new int[][]{ids(50, 30), Arrays.copyOf(text, 12), ids(90, 3)},
                new boolean[]{true, true, true});
        assertArrayEquals(a[0], b[1]);
        for (int t = 12; t < 40; t++) {
            a = alone.extend(new int[]{0}, new int[][]{{text[t]}}, new boolean[1]);
            // the other rows come and go: a different number of rows (and of matrix rows) at every step
            int[] rows = t % 3 == 0 ? new int[]{0} : new int[]{1, 0, 2};
            int[][] feed = t % 3 == 0 ? new int[][]{{text[t]}} : new int[][]{{text[t]}, {text[t]}, {text[t]}};
            if (t % 3 == 1) {
                rows = new int[]{1, 0};
                feed = new int[][]{ids(2000 + t, 9), {text[t]}};
            }
            boolean[] fresh = new boolean[rows.length];
            if (t % 3 == 1) {
                fresh[0] = true;
            }
            b = batch.extend(rows, feed, fresh);
            assertArrayEquals(a[0], b[rows[0] == 0 ? 0 : 1], "step " + t);
        }
    }

    private static List<Generator.Result> generate(LanguageModel m, Map<String, String> overrides, int[]... prompts) {
        GenerationConfig cfg = TinyGpt.generation(overrides);
        List<Generator.Request> requests = new ArrayList<>();
        for (int p = 0; p < prompts.length; p++) {
            for (int s = 0; s < cfg.numReturnSequences(); s++) {
                requests.add(new Generator.Request(p, s, prompts[p]));
            }
        }
        return new Generator(m, cfg, SotuShards.END_OF_TEXT).generate(requests, null);
    }

    /** Prompts of 1, 9, 30 and 90 tokens (longer than the context): padding, positions, a long prompt, slides. */
    static int[][] prompts() {
        return new int[][]{ids(0, 1), ids(1000, 9), ids(3000, 30), ids(5000, 90)};
    }

    @Test
    void greedyWithTheCacheGivesTheSameTokensAsGreedyWithoutIt() {
        // 70 new tokens: every sequence outgrows the context of 64, most more than once
        Map<String, String> greedy = Map.of("max-new-tokens", "70", "batch-size", "4");
        List<Generator.Result> withCache = generate(new CachedModel(graph), greedy, prompts());
        List<Generator.Result> without = generate(new GraphModel(graph), greedy, prompts());
        int tokens = 0;
        for (int i = 0; i < withCache.size(); i++) {
            assertArrayEquals(without.get(i).tokens(), withCache.get(i).tokens(), "prompt " + i);
            assertEquals(without.get(i).stop(), withCache.get(i).stop());
            tokens += withCache.get(i).tokens().length;
        }
        assertTrue(tokens > 200, "only " + tokens + " tokens: the sequences should run past the context");
    }

    @Test
    void sampledTextDoesNotDependOnBatchSize() {
        Map<String, String> sample = Map.of("do-sample", "true", "top-k", "40", "temperature", "0.8",
                "num-return-sequences", "3", "max-new-tokens", "80", "seed", "7");
        List<List<String>> runs = new ArrayList<>();
        for (String batch : List.of("1", "5", "16")) {
            Map<String, String> o = new HashMap<>(sample);
            o.put("batch-size", batch);
            runs.add(generate(new CachedModel(graph), o, prompts()).stream()
                    .map(r -> Arrays.toString(r.tokens()) + r.stop()).toList());
        }
        assertEquals(runs.get(0), runs.get(1));
        assertEquals(runs.get(0), runs.get(2));
        assertTrue(runs.get(0).stream().distinct().count() > 6, "sequences should differ: " + runs.get(0));
    }
}
