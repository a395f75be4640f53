package dev.kiln.train.checkpoint;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

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
        assertArrayEquals(model.params().toFloatVector(), back.model().params().toFloatVector(), "weights, bit for bit");
        assertArrayEquals(model.getUpdater().getStateViewArray().toFloatVector(),
                back.model().getUpdater().getStateViewArray().toFloatVector(), "AdamW moments, bit for bit");
        assertEquals(model.getConfiguration().getIterationCount(), back.model().getConfiguration().getIterationCount());
        assertEquals(GptModel.meanLoss(model, rows), GptModel.meanLoss(back.model(), rows), 0.0);
        assertNull(store.load(kept.get(0)).outerMomentum());
    }

    private static ComputationGraph trained() {
        GptConfig cfg = new GptConfig(31, 8, 16, 2, 2, 4);
        ComputationGraph model = GptModel.build(cfg, new Adam(1e-2), 0.1, 3, DataType.FLOAT);
        int[][] rows = new int[4][9];
        Random r = new Random(2);
        for (int[] row : rows) {
            for (int j = 0; j < row.length; j++) {
                row[j] = r.nextInt(31);
            }
        }
        for (int i = 0; i < 2; i++) {
            model.fit(GptModel.dataSet(rows, DataType.FLOAT));
        }
        return model;
    }

    private static Map<String, byte[]> entries(java.nio.file.Path zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                out.put(e.getName(), in.readAllBytes());
            }
        }
        return out;
    }

    /**
     * The streamed model.zip holds, entry for entry and byte for byte, what DL4J's ModelSerializer writes (so every
     * reader of model.zip loads it), only stored instead of compressed; ModelSerializer reads it back exactly.
     */
    @Test
    void streamedModelZipHoldsModelSerializersBytesUncompressed() throws IOException {
        ComputationGraph model = trained();
        FileSystem fs = FileSystem.getLocal(new Configuration());
        CheckpointStore store = new CheckpointStore(fs, new Path(tmp.resolve("ck").toUri()), 1);
        java.nio.file.Path ours = Paths.get(store.save(new Checkpoint(5, model, DataPosition.START, null, "{}", "abc", 1))
                .toUri()).resolve(CheckpointStore.MODEL);
        java.nio.file.Path dl4j = tmp.resolve("dl4j.zip");
        ModelSerializer.writeModel(model, dl4j.toFile(), true);

        Map<String, byte[]> a = entries(ours);
        Map<String, byte[]> b = entries(dl4j);
        assertEquals(b.keySet(), a.keySet());
        for (String name : b.keySet()) {
            assertArrayEquals(b.get(name), a.get(name), name);
        }
        long payload = a.values().stream().mapToLong(v -> v.length).sum();
        assertTrue(Files.size(ours) >= payload, "stored, not compressed: " + Files.size(ours) + " bytes for " + payload);
        try (InputStream in = Files.newInputStream(ours)) {
            assertArrayEquals(model.params().toFloatVector(), ModelZip.read(in).params().toFloatVector(),
                    "the streaming reader takes it (no fall-back)");
        }
        ComputationGraph back = ModelSerializer.restoreComputationGraph(ours.toFile(), true);
        assertArrayEquals(model.params().toFloatVector(), back.params().toFloatVector());
        assertArrayEquals(model.getUpdater().getStateViewArray().toFloatVector(),
                back.getUpdater().getStateViewArray().toFloatVector());
    }

    /** A checkpoint whose model.zip DL4J wrote (compressed, as Kiln did before) loads to the same bits. */
    @Test
    void earlierCompressedCheckpointsStillLoadExactly() throws IOException {
        ComputationGraph model = trained();
        FileSystem fs = FileSystem.getLocal(new Configuration());
        CheckpointStore store = new CheckpointStore(fs, new Path(tmp.resolve("old").toUri()), 1);
        Path folder = store.save(new Checkpoint(7, model, DataPosition.START, null, "{}", "abc", 1));
        java.nio.file.Path zip = Paths.get(folder.toUri()).resolve(CheckpointStore.MODEL);
        Files.delete(zip);
        ModelSerializer.writeModel(model, zip.toFile(), true);

        ComputationGraph back = store.load(folder).model();
        assertArrayEquals(model.params().toFloatVector(), back.params().toFloatVector());
        assertArrayEquals(model.getUpdater().getStateViewArray().toFloatVector(),
                back.getUpdater().getStateViewArray().toFloatVector());
        assertEquals(model.getConfiguration().getIterationCount(), back.getConfiguration().getIterationCount());
    }
}
