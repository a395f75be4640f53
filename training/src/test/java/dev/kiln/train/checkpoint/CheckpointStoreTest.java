package dev.kiln.train.checkpoint;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointStoreTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void roundTripsModelOptimizerStateAndRunStateAndKeepsTheNewest() throws IOException {
        GptConfig cfg = new GptConfig(31, 8, 16, 2, 2, 4);
        ComputationGraph model = GptModel.build(cfg, new Adam(1e-2), 0.1, 3, DataType.FLOAT);
        Random r = new Random(1);
        int[][] rows = new int[4][9];
        for (int[] row : rows) {
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextInt(31);
            }
        }
        for (int i = 0; i < 3; i++) {
            model.fit(GptModel.dataSet(rows, DataType.FLOAT)); // non-trivial Adam moments and iteration count
        }
        FileSystem fs = FileSystem.getLocal(new Configuration());
        CheckpointStore store = new CheckpointStore(fs, new Path(tmp.resolve("ck").toUri()), 2);
        float[] outer = {0.5f, -1.5f};
        for (long step : new long[]{10, 20, 30}) {
            store.save(new Checkpoint(step, model, new DataPosition(1, 2, step), step == 30 ? outer : null,
                    "{\"steps\":40}", "abc", 2));
        }
        // A crashed save leaves only a staging folder, which is ignored.
        Files.createDirectories(tmp.resolve("ck/_tmp-step-00000040-x"));

        List<Path> kept = store.list();
        assertEquals(List.of("step-00000020", "step-00000030"), kept.stream().map(Path::getName).toList());
        Checkpoint back = store.load(store.latest().orElseThrow());
        assertEquals(30, back.step());
        assertEquals(new DataPosition(1, 2, 30), back.position());
        assertArrayEquals(outer, back.outerMomentum());
        assertEquals("abc", back.tokenizerSha256());
        assertEquals(2, back.workers());
        assertTrue(back.configJson().contains("\"steps\":40"));
        assertEquals(model.params(), back.model().params());
        assertEquals(model.getUpdater().getStateViewArray(), back.model().getUpdater().getStateViewArray());
        assertEquals(model.getConfiguration().getIterationCount(), back.model().getConfiguration().getIterationCount());
        assertEquals(GptModel.meanLoss(model, rows), GptModel.meanLoss(back.model(), rows), 0.0);
        assertNull(store.load(kept.get(0)).outerMomentum());
    }
}
