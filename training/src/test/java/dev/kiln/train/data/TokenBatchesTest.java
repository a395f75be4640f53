package dev.kiln.train.data;

import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TokenBatchesTest {
    private static final int T = 8;
    private static final int VOCAB = 50_000;

    @TempDir
    java.nio.file.Path tmp;
    FileSystem fs;
    List<Path> shards = new ArrayList<>();
    /** Every row written, in shard-list then file order. */
    List<int[]> allRows = new ArrayList<>();

    @BeforeEach
    void writeShards() throws IOException {
        fs = FileSystem.getLocal(new Configuration());
        int next = 0;
        int[] rowsPerShard = {23, 5, 0, 40};
        for (int s = 0; s < rowsPerShard.length; s++) {
            Path p = new Path(new Path(tmp.toUri()), "shard-" + s + ".arrow");
            try (ShardWriter w = ShardWriter.create(fs, p, new ShardSchema.Header(T, VOCAB, "00", "train"), 6)) {
                RowPacker packer = new RowPacker(T, row -> {
                    w.write(row);
                    allRows.add(row.clone());
                });
                // Distinct ids make every row distinguishable: row contents identify (shard, row).
                for (int i = 0; i < rowsPerShard[s] * T + (rowsPerShard[s] > 0 ? 1 : 0); i++) {
                    packer.add(next++ % VOCAB);
                }
                w.commit();
            }
            shards.add(p);
        }
        assertEquals(68, allRows.size());
    }

    private List<int[]> drain(TokenBatches b, int maxBatches) {
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < maxBatches && b.hasNext(); i++) {
            rows.addAll(Arrays.asList(b.next()));
        }
        return rows;
    }

    @Test
    void withoutShuffleOnePassYieldsEveryRowInOrderAndAShortLastBatch() throws IOException {
        try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(10).open()) {
            List<int[][]> batches = new ArrayList<>();
            b.forEachRemaining(batches::add);
            assertEquals(7, batches.size());
            assertEquals(8, batches.get(6).length, "68 rows = 6 x 10 + 8");
            List<int[]> rows = new ArrayList<>();
            batches.forEach(batch -> rows.addAll(Arrays.asList(batch)));
            assertEquals(allRows.size(), rows.size());
            for (int i = 0; i < rows.size(); i++) {
                assertArrayEquals(allRows.get(i), rows.get(i));
            }
            assertEquals(T, b.contextLength());
        }
    }

    @Test
    void inputsAndLabelsAreTheRowShiftedByOne() throws IOException {
        try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(3).open()) {
            int[][] batch = b.next();
            int[][] x = TokenBatches.inputs(batch);
            int[][] y = TokenBatches.labels(batch);
            for (int i = 0; i < 3; i++) {
                assertEquals(T, x[i].length);
                assertArrayEquals(Arrays.copyOfRange(batch[i], 1, T + 1), y[i]);
                assertArrayEquals(Arrays.copyOfRange(x[i], 1, T), Arrays.copyOfRange(y[i], 0, T - 1));
            }
        }
    }

    @Test
    void shuffledEpochsArePermutationsThatDifferAndRepeatWithTheSeed() throws IOException {
        List<int[]> a;
        List<int[]> again;
        try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(4).shuffle(7).repeat(true).open()) {
            a = drain(b, 34); // two epochs of 68 rows
        }
        try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(4).shuffle(7).repeat(true).open()) {
            again = drain(b, 34);
        }
        assertEquals(136, a.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), again.get(i), "same seed, same order");
        }
        List<int[]> epoch0 = a.subList(0, 68);
        List<int[]> epoch1 = a.subList(68, 136);
        assertEquals(counts(allRows), counts(epoch0), "each epoch yields every row exactly once");
        assertEquals(counts(allRows), counts(epoch1));
        assertNotEquals(keys(epoch0), keys(epoch1), "epochs differ in order");
        assertNotEquals(keys(allRows), keys(epoch0), "shuffled");
        try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(4).shuffle(8).repeat(true).open()) {
            assertNotEquals(keys(epoch0), keys(drain(b, 17)), "another seed, another order");
        }
    }

    @Test
    void resumingFromAPositionContinuesExactlyWhereTheRunStopped() throws IOException {
        for (int stopAfter : new int[]{0, 1, 3, 5, 11, 17, 20, 23}) {
            List<int[]> reference;
            DataPosition pos;
            try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(4).shuffle(3).repeat(true).open()) {
                drain(b, stopAfter);
                pos = b.position();
                reference = drain(b, 12);
            }
            try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(4).shuffle(3).repeat(true).startAt(pos).open()) {
                List<int[]> resumed = drain(b, 12);
                assertEquals(keys(reference), keys(resumed), "resume after " + stopAfter + " batches at " + pos);
            }
        }
        // Unshuffled, one pass: resuming at the end yields nothing more.
        try (TokenBatches b = TokenBatches.builder(fs, shards).batchSize(68).open()) {
            b.next();
            assertFalse(b.hasNext());
            try (TokenBatches c = TokenBatches.builder(fs, shards).batchSize(5).startAt(b.position()).open()) {
                assertFalse(c.hasNext());
            }
        }
    }

    @Test
    void aPositionPastTheShardsIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> TokenBatches.builder(fs, shards).startAt(new DataPosition(0, 1, 6)).open());
        assertThrows(IllegalArgumentException.class,
                () -> TokenBatches.builder(fs, shards).startAt(new DataPosition(0, 5, 0)).open());
    }

    private static Map<String, Integer> counts(List<int[]> rows) {
        Map<String, Integer> m = new HashMap<>();
        for (int[] r : rows) {
            m.merge(Arrays.toString(r), 1, Integer::sum);
        }
        return m;
    }

    private static List<String> keys(List<int[]> rows) {
        return rows.stream().map(Arrays::toString).toList();
    }
}
