package dev.kiln.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.model.GptConfig;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LineageAssertions;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.ShardBatches;
import org.apache.commons.io.FileUtils;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Single-JVM pre-training on real SOTU shards: learning, checkpoints, resume. */
class PretrainerTest {
    @TempDir
    static java.nio.file.Path tmp;
    static Path shards;
    static FileSystem fs;

    @BeforeAll
    static void shards() throws IOException {
        fs = FileSystem.getLocal(new Configuration());
        shards = SotuShards.write(tmp.resolve("shards"), TinyRuns.CONTEXT, 60);
    }

    private static List<JsonNode> metrics(java.nio.file.Path out, String kind) throws IOException {
        return Files.readAllLines(out.resolve("metrics.jsonl")).stream().map(l -> {
            try {
                return new ObjectMapper().readTree(l);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).filter(n -> n.path("kind").asText().equals(kind)).toList();
    }

    @Test
    void lossOnSotuFallsClearlyBelowItsStartAndBelowAUnigramModel() throws IOException {
        java.nio.file.Path out = tmp.resolve("learn");
        Config c = TinyRuns.config(shards.toString(), out.toString(), Map.of("steps", "150",
                "validation.every", "150", "checkpoint.every", "0"));
        TrainConfig cfg = TrainConfig.from(c);
        Manifest m = Manifest.read(fs, shards);
        List<int[][]> validation = ShardBatches.firstBatches(fs, m.shardPaths(shards, ShardSchema.VALIDATION),
                cfg.batchSize(), cfg.validationBatches());
        double unigram = SotuShards.unigramLoss(fs, shards, validation);

        Pretrainer.Result r = Pretraining.run(null, cfg, TinyRuns.lineage(c), false);

        List<JsonNode> train = metrics(out, "train");
        double first = train.get(0).path("loss").asDouble();   // mean of steps 1-10, starting from ln 257 = 5.55
        double validationLoss = r.lastValidationLoss();
        assertEquals(150, r.endStep());
        assertEquals(15, train.size(), "one train record per 10 steps");
        assertTrue(first > 4.0, "the first steps start near ln(257) = 5.55, got " + first);
        assertTrue(validationLoss < first - 1.5, "validation loss " + validationLoss + " should fall well below the start " + first);
        assertTrue(validationLoss < unigram - 0.2,
                "validation loss " + validationLoss + " should beat the unigram model's " + unigram);
        assertTrue(r.tokens() == 150L * 16 * TinyRuns.CONTEXT);
        assertEquals(1, metrics(out, "validation").size());
        assertEquals(1, metrics(out, "checkpoint").size(), "a checkpoint at the end");
        JsonNode state = new ObjectMapper().readTree(
                out.resolve("checkpoints").resolve(CheckpointStore.name(150)).resolve("state.json").toFile());
        LineageAssertions.assertLineage(state.path("lineage"), "pretrain", TrainConfig.SECTION);
        assertEquals(state.path("config"), state.path("lineage").path("config"), "config is the lineage's section");
        assertTrue(state.path("config").path("model").has("d-model"),
                "config is the rendered kiln.train section (d-model), not the Java record (dModel): " + state.path("config"));
    }

    /** --dry-run prints the memory estimate per replica, per executor and for the driver (and for local[N]). */
    @Test
    void dryRunPrintsTheMemoryEstimate() throws IOException {
        Config c = TinyRuns.config(shards.toString(), tmp.resolve("dry").toString(), Map.of("parallel.workers", "2"));
        String plan = Pretraining.plan(TrainConfig.from(c), new Configuration(), ResumePolicy.Mode.NEVER);
        MemoryModel m = MemoryModel.of(new GptConfig(SotuShards.VOCAB, TinyRuns.CONTEXT, 64, 2, 4, 4, true), TrainConfig.from(c));
        assertTrue(plan.contains(String.format(Locale.ROOT, "%,d parameters; per replica %s off-heap", m.params(),
                MemoryModel.gb(m.replicaBytes()))), plan);
        assertTrue(plan.contains("per executor with one task slot: heap") && plan.contains("driver: heap")
                && plan.contains("local[N] runs all 2 replicas in the driver"), plan);
    }

    /**
     * A model that cannot fit this JVM (48 blocks of width 4096: 9.7 G parameters, 155 GB of weights, gradients and
     * moments) is refused before anything is built or written, with the key to change (exit 2 in the job).
     */
    @Test
    void aRunThatCannotFitIsRefusedAtStartNamingTheKey() {
        java.nio.file.Path out = tmp.resolve("too-big");
        Config c = TinyRuns.config(shards.toString(), out.toString(), Map.of("model.d-model", "4096", "model.layers", "48",
                "model.heads", "32"));
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> Pretraining.run(null, TrainConfig.from(c), TinyRuns.lineage(c), false));
        assertTrue(e.getMessage().contains("org.bytedeco.javacpp.maxbytes") && e.getMessage().contains("does not fit"),
                e.getMessage());
        assertTrue(!Files.exists(out.resolve("checkpoints")), "nothing written");
    }

    /** {@code validation.every = 0} means no validation pass at all, not even at the end of the run. */
    @Test
    void validationEveryZeroMeasuresNothingEvenAtTheEnd() throws IOException {
        java.nio.file.Path out = tmp.resolve("no-validation");
        Config c = TinyRuns.config(shards.toString(), out.toString(), Map.of("steps", "10", "validation.every", "0",
                "checkpoint.every", "0"));
        Pretrainer.Result r = Pretraining.run(null, TrainConfig.from(c), TinyRuns.lineage(c), false);

        assertEquals(10, r.endStep());
        assertEquals(List.of(), metrics(out, "validation"), "no validation record");
        assertTrue(Double.isNaN(r.lastValidationLoss()), "no validation loss, got " + r.lastValidationLoss());
        assertEquals(1, metrics(out, "checkpoint").size(), "still a checkpoint at the end");
    }

    /**
     * A run checkpointed at step 20 and resumed from there produces the same training and validation losses at
     * steps 30 and 40 as the uninterrupted run (same data position, optimizer state, schedule step).
     */
    @Test
    void resumeContinuesTheSameLossCurve() throws IOException {
        java.nio.file.Path straight = tmp.resolve("straight");
        Map<String, String> o = Map.of("steps", "40", "validation.every", "20", "checkpoint.every", "20",
                "checkpoint.keep", "5");
        Config c = TinyRuns.config(shards.toString(), straight.toString(), o);
        Pretraining.run(null, TrainConfig.from(c), TinyRuns.lineage(c), false);

        // An interrupted copy: the same output up to the step-20 checkpoint (as if the job died after it).
        java.nio.file.Path resumed = tmp.resolve("resumed");
        copy(straight, resumed);
        FileUtils.deleteDirectory(resumed.resolve("checkpoints/step-00000040").toFile());
        Config rc = TinyRuns.config(shards.toString(), resumed.toString(), o);
        Pretrainer.Result r = Pretraining.run(null, TrainConfig.from(rc), TinyRuns.lineage(rc), true);

        assertEquals(20, r.startStep(), "resumed from the newest checkpoint");
        assertEquals(40, r.endStep());
        for (String kind : List.of("train", "validation")) {
            List<JsonNode> a = metrics(straight, kind);
            List<JsonNode> b = metrics(resumed, kind);
            assertEquals(a.size(), b.size(), kind + " records");
            for (int i = 0; i < a.size(); i++) {
                assertEquals(a.get(i).path("step").asLong(), b.get(i).path("step").asLong());
                assertEquals(a.get(i).path("loss").asDouble(), b.get(i).path("loss").asDouble(), 1e-5,
                        kind + " loss at step " + a.get(i).path("step"));
            }
        }
        // Without --resume a run refuses to start over in a folder that holds another run's checkpoints.
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> Pretraining.run(null, TrainConfig.from(rc), TinyRuns.lineage(rc), false));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }

    private static void copy(java.nio.file.Path from, java.nio.file.Path to) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.walk(from)) {
            for (java.nio.file.Path p : s.toList()) {
                java.nio.file.Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
