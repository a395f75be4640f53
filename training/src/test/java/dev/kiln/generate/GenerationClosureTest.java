package dev.kiln.generate;

import dev.kiln.model.GptConfig;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.TaskBinaryWarnings;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A generate job's tasks carry no model: a 3.5 MB checkpoint (d-model 192, 2 layers) reaches the executors by one
 * broadcast, so Spark never warns "Broadcasting large task binary" (it does above 1 MiB of serialized task).
 */
class GenerationClosureTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void aMultiMegabyteCheckpointTravelsByBroadcastNotInTheTasks() throws Exception {
        GptConfig shape = new GptConfig(257, TinyGpt.CONTEXT, 192, 2, 4, 4);
        assertTrue(TinyGpt.model(shape, 5).numParams() * Float.BYTES > 2L << 20, "the model must be over Spark's 1 MiB task-binary threshold");
        Path run = TinyGpt.run(tmp, shape, 5);
        java.nio.file.Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, "Fellow citizens\nWe the people\nIn the year\nThe state of the union\n");
        GenerationConfig cfg = TinyGpt.generation(Map.of("checkpoint", run.toString(), "prompts", prompts.toString(),
                "output", tmp.resolve("out.jsonl").toString(), "max-new-tokens", "3", "partitions", "4"));
        Generation.Result[] result = new Generation.Result[1];
        List<String> warnings = TaskBinaryWarnings.during(() -> result[0] = Generation.run(LocalSpark.get(), cfg));
        assertEquals(List.of(), warnings);
        assertEquals(4, result[0].completions().size());
    }
}
