package dev.kiln.evaluate;

import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.TaskBinaryWarnings;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An evaluate run's tasks (counting, planning, scoring two checkpoints with both baselines, generating) carry no
 * model, tokenizer or data: checkpoints of a 4.3 MB model (d-model 192, 2 layers, vocabulary 512) reach the executors
 * by one broadcast per job, so Spark never warns "Broadcasting large task binary" (it does above 1 MiB of task).
 */
class EvaluationClosureTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void scoringAndGeneratingWithMultiMegabyteCheckpointsLogNoLargeTaskBinary() throws Exception {
        Path shards = EvalFixtures.shards(tmp.resolve("tokenized"), 20);
        Path pretrain = EvalFixtures.pretrain(shards, tmp.resolve("pretrain"), 12, 6, 192);
        long modelBytes;
        try (Stream<java.nio.file.Path> files = Files.walk(java.nio.file.Path.of(pretrain.toUri()).resolve("checkpoints/"
                + CheckpointStore.name(6)))) {
            modelBytes = files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
        assertTrue(modelBytes > 2L << 20, "a checkpoint must be over Spark's 1 MiB task-binary threshold: " + modelBytes);
        java.nio.file.Path prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"Fellow citizens\"}\n{\"prompt\": \"The state of the Union\"}\n");
        Map<String, String> o = new HashMap<>();
        o.put("checkpoints", "[\"" + new Path(pretrain, "checkpoints/" + CheckpointStore.name(6)) + "\", \"" + pretrain + "\"]");
        o.put("shards", "[\"" + shards + "\"]");
        o.put("output", tmp.resolve("reports").toString());
        o.put("run-name", "closure");
        o.put("generation.prompts", prompts.toString());
        o.put("generation.max-new-tokens", "4");
        Evaluate.Outcome[] outcome = new Evaluate.Outcome[1];
        List<String> warnings = TaskBinaryWarnings.during(() ->
                outcome[0] = Evaluate.run(LocalSpark.get(), EvalFixtures.config(o), EvalFixtures.lineage(o)));
        assertEquals(List.of(), warnings);
        assertTrue(outcome[0].generation() != null, "the generation section ran");
    }
}
