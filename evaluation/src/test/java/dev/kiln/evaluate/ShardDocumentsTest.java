package dev.kiln.evaluate;

import dev.kiln.shards.Format1Shards;
import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardReader;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Chunks of record batches tile a shard's documents: every document once, with its source, whatever the chunk size. */
class ShardDocumentsTest {
    static final int T = 4;
    static final int V = 20;
    static final int EOT = 19;

    @TempDir
    java.nio.file.Path tmp;

    /** What a chunking emitted: the documents (as lists, for assertEquals) and their sources, in order. */
    private static final class Seen implements ShardDocuments.DocumentSink {
        final List<List<Integer>> documents = new ArrayList<>();
        final List<String> sources = new ArrayList<>();

        @Override
        public void accept(String source, int[] document) {
            List<Integer> l = new ArrayList<>(document.length);
            for (int id : document) {
                l.add(id);
            }
            documents.add(l);
            sources.add(source);
        }
    }

    @Test
    void chunksOfAnySizeRecoverEveryDocumentOnceWithItsSource() throws IOException {
        Random random = new Random(7);
        FileSystem fs = FileSystem.getLocal(new Configuration());
        for (int trial = 0; trial < 40; trial++) {
            // Documents of 0 to 30 tokens (0: two end-of-text in a row), ids 0..18; every 5th trial has long ones.
            List<int[]> docs = new ArrayList<>();
            int count = 1 + random.nextInt(25);
            for (int d = 0; d < count; d++) {
                int[] doc = new int[trial % 5 == 4 && random.nextInt(3) == 0 ? 20 + random.nextInt(40) : random.nextInt(trial % 2 == 0 ? 31 : 6)];
                for (int i = 0; i < doc.length; i++) {
                    doc[i] = random.nextInt(EOT);
                }
                docs.add(doc);
            }
            int rowsPerBlock = 1 + random.nextInt(4);
            boolean version1 = trial % 4 == 3;
            Path shard = new Path(tmp.resolve("s" + trial + ".arrow").toUri());
            List<String> expectedSources = new ArrayList<>();
            List<List<Integer>> expected = new ArrayList<>();
            ShardSchema.Header header = new ShardSchema.Header(T, V, "x", ShardSchema.VALIDATION);
            try (ShardWriter w = ShardWriter.create(fs, shard, header, rowsPerBlock)) {
                RowPacker p = RowPacker.withSources(T, w::write);
                List<Long> starts = new ArrayList<>();
                for (int d = 0; d < docs.size(); d++) {
                    starts.add(p.tokensAdded());
                    p.startDocument("corpus/</script><script>alert(1)</script>/doc-" + d);
                    p.add(docs.get(d), docs.get(d).length);
                    p.add(EOT);
                }
                long covered = p.coveredTokens();
                w.commit();
                // What a reader must see: each non-empty document that starts inside the shard, cut at its end.
                for (int d = 0; d < docs.size(); d++) {
                    int n = (int) Math.min(docs.get(d).length, covered - starts.get(d));
                    if (n > 0) {
                        List<Integer> l = new ArrayList<>();
                        for (int i = 0; i < n; i++) {
                            l.add(docs.get(d)[i]);
                        }
                        expected.add(l);
                        expectedSources.add(version1 ? null : "corpus/</script><script>alert(1)</script>/doc-" + d);
                    }
                }
            }
            if (version1) {
                Format1Shards.rewrite(fs, shard, rowsPerBlock);
            }
            try (ShardReader r = ShardReader.open(fs, shard)) {
                // Chunks of 1, 2, 3 and 7 blocks, and the whole shard in one (a chunk per block is quadratic to try all).
                for (int blocksPerChunk : new int[]{1, 2, 3, 7, r.blockCount() + 1}) {
                    Seen seen = new Seen();
                    long rows = 0;
                    for (int b = 0; b < r.blockCount(); b += blocksPerChunk) {
                        rows += ShardDocuments.forEachDocument(r, b, blocksPerChunk, EOT, seen);
                    }
                    String what = "trial " + trial + (version1 ? " (format 1)" : "") + ", " + rowsPerBlock + " rows per block, "
                            + blocksPerChunk + " blocks per chunk";
                    assertEquals(expected, seen.documents, what);
                    assertEquals(expectedSources, seen.sources, what);
                    assertEquals(r.countRows(), rows);
                }
                // Chunks of rows, cut anywhere inside a record batch (what scoring uses): the same documents and sources.
                long[] blockRows = r.blockRows();
                long total = Arrays.stream(blockRows).sum();
                assertEquals(r.countRows(), total, "the batch headers' row counts");
                for (long rowsPerChunk : new long[]{1, 2, 5, total + 1}) {
                    Seen seen = new Seen();
                    long rows = 0;
                    for (long first = 0; first < total; first += rowsPerChunk) {
                        rows += ShardDocuments.forEachDocument(r, blockRows, first, rowsPerChunk, EOT, seen);
                    }
                    String what = "trial " + trial + (version1 ? " (format 1)" : "") + ", " + rowsPerBlock + " rows per block, "
                            + rowsPerChunk + " rows per chunk";
                    assertEquals(expected, seen.documents, what);
                    assertEquals(expectedSources, seen.sources, what);
                    assertEquals(total, rows);
                }
            }
        }
    }

    @Test
    void aFormat2ShardWhoseSourcesDoNotMatchItsDocumentsIsAnError() throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path shard = new Path(tmp.resolve("bad.arrow").toUri());
        try (ShardWriter w = ShardWriter.create(fs, shard, new ShardSchema.Header(T, V, "x", ShardSchema.VALIDATION), 2)) {
            RowPacker p = new RowPacker(T, w::write); // rows written without their sources
            for (int i = 0; i < 20; i++) {
                p.add(i % 3 == 2 ? EOT : 5);
            }
            w.commit();
        }
        try (ShardReader r = ShardReader.open(fs, shard)) {
            IllegalStateException e = Assertions.assertThrows(IllegalStateException.class,
                    () -> ShardDocuments.forEachDocument(r, 0, 1, EOT, (s, d) -> { }));
            Assertions.assertTrue(e.getMessage().contains("bad.arrow: document 0 of a chunk has no entry in column sources"),
                    e.getMessage());
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
