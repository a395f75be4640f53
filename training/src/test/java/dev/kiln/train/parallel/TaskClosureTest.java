package dev.kiln.train.parallel;

import com.typesafe.config.Config;
import dev.kiln.model.GptConfig;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.TaskBinaryWarnings;
import dev.kiln.train.SotuShards;
import dev.kiln.train.TinyRuns;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.data.ExampleBatches;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A round's tasks carry no data- or model-sized closure: a fine-tune's examples (here 8.5 MB of rows, as a
 * fine-tune's ExampleBatches factory holds them) reach the executors by one broadcast per run, so Spark never
 * warns "Broadcasting large task binary" (it does above 1 MiB of serialized task).
 */
class TaskClosureTest {
    @Test
    void roundsOfAFineTuneSizedExampleSetBroadcastNoLargeTaskBinary() throws Exception {
        Config c = TinyRuns.config("unused", "unused", Map.of("batch-size", "4", "parallel.workers", "2",
                "parallel.average-every", "2"));
        TrainConfig cfg = TrainConfig.from(c);
        GptConfig shape = new GptConfig(SotuShards.VOCAB, TinyRuns.CONTEXT, 64, 2, 4, 4);
        int[][] rows = new int[32_768][TinyRuns.CONTEXT + 1];
        Random r = new Random(3);
        for (int[] row : rows) {
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextInt(SotuShards.VOCAB);
            }
        }
        Replica global = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        List<String> warnings = TaskBinaryWarnings.during(() -> {
            try (SparkAveraging runner = new SparkAveraging(LocalSpark.get(), cfg.engine(),
                    new ReplicaFactory.Pretrain(shape, cfg.engine(), cfg.learningRateSchedule()),
                    new ExampleBatches.Factory(rows, 1), "finetune")) {
                runner.run(global, 2);
                runner.run(global, 2);
            }
        });
        assertEquals(List.of(), warnings);
    }
}
