package dev.kiln.evaluate;

import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardReader;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Chunks of record batches tile a shard's documents: every document once, whatever the chunk size. */
class ShardDocumentsTest {
    static final int T = 4;
    static final int V = 20;
    static final int EOT = 19;

    @TempDir
    java.nio.file.Path tmp;

    @Test
    void chunksOfAnySizeRecoverEveryDocumentOnce() throws IOException {
        Random random = new Random(7);
        for (int trial = 0; trial < 20; trial++) {
            // Documents of 0 to 30 tokens (0: two end-of-text in a row), ids 0..18.
            List<int[]> docs = new ArrayList<>();
            int count = 1 + random.nextInt(25);
            for (int d = 0; d < count; d++) {
                int[] doc = new int[random.nextInt(31)];
                for (int i = 0; i < doc.length; i++) {
                    doc[i] = random.nextInt(EOT);
                }
                docs.add(doc);
            }
            int rowsPerBlock = 1 + random.nextInt(4);
            Path shard = new Path(tmp.resolve("s" + trial + ".arrow").toUri());
            FileSystem fs = FileSystem.getLocal(new Configuration());
            List<Integer> stream = new ArrayList<>();
            try (ShardWriter w = ShardWriter.create(fs, shard, new ShardSchema.Header(T, V, "x", ShardSchema.VALIDATION), rowsPerBlock)) {
                RowPacker p = new RowPacker(T, w::write);
                for (int[] doc : docs) {
                    p.add(doc, doc.length);
                    p.add(EOT);
                    for (int id : doc) {
                        stream.add(id);
                    }
                    stream.add(EOT);
                }
                long covered = p.coveredTokens();
                w.commit();
                stream = stream.subList(0, (int) covered); // the tail that filled no row is not in the shard
            }
            List<List<Integer>> expected = split(stream);
            try (ShardReader r = ShardReader.open(fs, shard)) {
                for (int blocksPerChunk = 1; blocksPerChunk <= r.blockCount() + 1; blocksPerChunk++) {
                    List<List<Integer>> got = new ArrayList<>();
                    long rows = 0;
                    for (int b = 0; b < r.blockCount(); b += blocksPerChunk) {
                        rows += ShardDocuments.forEach(r, b, blocksPerChunk, EOT, doc -> {
                            List<Integer> l = new ArrayList<>();
                            for (int id : doc) {
                                l.add(id);
                            }
                            got.add(l);
                        });
                    }
                    assertEquals(expected, got, "trial " + trial + ", " + rowsPerBlock + " rows per block, " + blocksPerChunk + " blocks per chunk");
                    assertEquals(r.countRows(), rows);
                }
            }
        }
    }

    /** The non-empty runs between end-of-text ids. */
    static List<List<Integer>> split(List<Integer> stream) {
        List<List<Integer>> out = new ArrayList<>();
        List<Integer> cur = new ArrayList<>();
        for (int id : stream) {
            if (id == EOT) {
                if (!cur.isEmpty()) {
                    out.add(cur);
                }
                cur = new ArrayList<>();
            } else {
                cur.add(id);
            }
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }
}
