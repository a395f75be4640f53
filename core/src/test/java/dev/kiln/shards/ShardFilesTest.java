package dev.kiln.shards;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.io.FileHashes;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Writer, reader and manifest on real files through the Hadoop local file system. */
class ShardFilesTest {
    private static final int T = 16;
    private static final int VOCAB = 1000;
    private static final String TOKENIZER_SHA = "ab".repeat(32);

    @TempDir
    java.nio.file.Path tmp;
    FileSystem fs;
    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        fs = FileSystem.getLocal(new Configuration());
        dir = new Path(tmp.toUri());
    }

    static int[] stream(int n, long seed) {
        Random r = new Random(seed);
        int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = r.nextInt(VOCAB);
        }
        return s;
    }

    /** Packs {@code stream} into a shard with small record batches (several blocks); returns the rows written. */
    ShardWriter.Committed writeShard(Path target, int[] stream, String split, List<int[]> rowsOut) throws IOException {
        try (ShardWriter w = ShardWriter.create(fs, target, new ShardSchema.Header(T, VOCAB, TOKENIZER_SHA, split), 7)) {
            RowPacker packer = new RowPacker(T, row -> {
                w.write(row);
                if (rowsOut != null) {
                    rowsOut.add(row.clone());
                }
            });
            packer.add(stream, stream.length);
            ShardWriter.Committed c = w.commit();
            assertEquals(packer.coveredTokens(), c.tokens());
            assertEquals(stream.length, packer.coveredTokens() + packer.droppedTokens());
            return c;
        }
    }

    @Test
    void rowsReadBackEqualWhatWasWrittenAndOverlapByOneToken() throws IOException {
        int[] s = stream(T * 50 + 5, 1);
        Path target = new Path(dir, "shards/train/part-00000.arrow");
        List<int[]> written = new ArrayList<>();
        ShardWriter.Committed c = writeShard(target, s, "train", written);

        assertEquals(50, c.rows());
        assertEquals(50L * T + 1, c.tokens());
        assertEquals(fs.getFileStatus(target).getLen(), c.bytes());
        assertEquals(FileHashes.sha256(fs, target), c.sha256());

        try (ShardReader r = ShardReader.open(fs, target)) {
            assertEquals(new ShardSchema.Header(T, VOCAB, TOKENIZER_SHA, "train"), r.header());
            assertEquals(8, r.blockCount(), "50 rows in batches of 7");
            List<int[]> read = new ArrayList<>();
            r.forEach(read::add);
            assertEquals(written.size(), read.size());
            for (int i = 0; i < read.size(); i++) {
                assertArrayEquals(written.get(i), read.get(i), "row " + i);
                // Row i is stream positions [i*T, i*T+T].
                assertArrayEquals(Arrays.copyOfRange(s, i * T, i * T + T + 1), read.get(i));
            }
            assertEquals(50, r.countRows());
        }
    }

    @Test
    void aPlainArrowReaderSeesTheDocumentedSchema() throws IOException {
        Path target = new Path(dir, "p.arrow");
        writeShard(target, stream(T * 3 + 1, 2), "validation", null);
        try (RootAllocator alloc = new RootAllocator();
             FileChannel ch = FileChannel.open(java.nio.file.Path.of(target.toUri()), StandardOpenOption.READ);
             ArrowFileReader r = new ArrowFileReader(ch, alloc)) {
            Schema schema = r.getVectorSchemaRoot().getSchema();
            assertEquals(2, schema.getFields().size());
            Field f = schema.getFields().get(0);
            assertEquals("tokens", f.getName());
            assertFalse(f.isNullable());
            assertEquals(new ArrowType.FixedSizeList(T + 1), f.getType());
            assertEquals(new ArrowType.Int(32, true), f.getChildren().get(0).getType());
            Field sources = schema.getFields().get(1);
            assertEquals("sources", sources.getName());
            assertFalse(sources.isNullable());
            assertEquals(ArrowType.List.INSTANCE, sources.getType());
            assertEquals(ArrowType.Utf8.INSTANCE, sources.getChildren().get(0).getType());
            assertFalse(sources.getChildren().get(0).isNullable());
            assertEquals(Map.of("kiln.format_version", "2", "kiln.context_length", "16", "kiln.vocab_size", "1000",
                    "kiln.tokenizer_sha256", TOKENIZER_SHA, "kiln.split", "validation"), schema.getCustomMetadata());
            int rows = 0;
            while (r.loadNextBatch()) {
                rows += r.getVectorSchemaRoot().getRowCount();
            }
            assertEquals(3, rows);
        }
    }

    /**
     * Documents of lengths {@code lengths} (ids 1.., end-of-text 0 after each) from sources "doc-i", packed by
     * RowPacker into {@code target} (format 1 with {@code version1}); returns the document start positions.
     */
    long[] writeDocuments(Path target, int[] lengths, int rowsPerBatch, boolean version1) throws IOException {
        ShardSchema.Header h = new ShardSchema.Header(T, VOCAB, TOKENIZER_SHA, "train");
        long[] starts = new long[lengths.length];
        try (ShardWriter w = ShardWriter.create(fs, target, h, rowsPerBatch)) {
            RowPacker packer = RowPacker.withSources(T, (row, src) -> w.write(row, src));
            Random rnd = new Random(lengths.length);
            for (int d = 0; d < lengths.length; d++) {
                starts[d] = packer.tokensAdded();
                packer.startDocument("hdfs://nn/corpus/dir é/doc-" + d + ".txt");
                for (int i = 0; i < lengths[d]; i++) {
                    packer.add(1 + rnd.nextInt(VOCAB - 1));
                }
                packer.add(0);
            }
            w.commit();
        }
        if (version1) {
            Format1Shards.rewrite(fs, target, rowsPerBatch);
        }
        return starts;
    }

    @Test
    void sourcesRoundTripRowAlignedByTheOwnershipRule() throws IOException {
        // Short and long documents, empty ones, and one ending exactly on a row boundary (position 3T - 1 is its EOT).
        int[] lengths = {0, 3, 40, 1, 0, 0, 2, 100, 5, 16, 7, 60, 2, 2, 2, 9};
        Path target = new Path(dir, "s.arrow");
        long[] starts = writeDocuments(target, lengths, 3, false);
        try (ShardReader r = ShardReader.open(fs, target)) {
            assertEquals("2", r.formatVersion());
            assertTrue(r.hasSources());
            List<List<String>> perRow = new ArrayList<>();
            for (int b = 0; b < r.blockCount(); b++) {
                int rows = r.loadBlock(b);
                for (int i = 0; i < rows; i++) {
                    perRow.add(r.sources(i));
                }
            }
            long rows = perRow.size();
            // The rule, computed independently: document d starting at q is owned by row 0 (q = 0) or floor((q-1)/T).
            List<List<String>> expected = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                expected.add(new ArrayList<>());
            }
            for (int d = 0; d < lengths.length; d++) {
                long owner = starts[d] == 0 ? 0 : (starts[d] - 1) / T;
                if (owner < rows) {
                    expected.get((int) owner).add("hdfs://nn/corpus/dir é/doc-" + d + ".txt");
                }
            }
            assertEquals(expected, perRow);
            assertTrue(perRow.stream().anyMatch(l -> l.size() >= 3), "some row owns several documents");
            assertTrue(perRow.stream().anyMatch(List::isEmpty), "some row owns none");
        }
    }

    @Test
    void aFormat1ShardIsStillReadAndHasNoSources() throws IOException {
        int[] lengths = {3, 40, 1, 100, 5};
        Path v1 = new Path(dir, "v1.arrow");
        Path v2 = new Path(dir, "v2.arrow");
        writeDocuments(v1, lengths, 4, true);
        writeDocuments(v2, lengths, 4, false);
        try (ShardReader r1 = ShardReader.open(fs, v1); ShardReader r2 = ShardReader.open(fs, v2)) {
            assertEquals("1", r1.formatVersion());
            assertFalse(r1.hasSources());
            assertEquals(r2.header(), r1.header());
            List<int[]> a = new ArrayList<>();
            List<int[]> b = new ArrayList<>();
            r1.forEach(a::add);
            r2.forEach(b::add);
            assertEquals(b.size(), a.size());
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(b.get(i), a.get(i), "row " + i);
            }
            r1.loadBlock(0);
            assertEquals(List.of(), r1.sources(0));
        }
    }

    @Test
    void aFormat2ShardWithoutItsSourcesColumnIsRejectedNamingTheFile() throws IOException {
        Path bad = new Path(dir, "bad.arrow");
        ShardSchema.Header h = new ShardSchema.Header(T, VOCAB, TOKENIZER_SHA, "train");
        Schema v1 = Format1Shards.schema(h);
        Map<String, String> meta = new LinkedHashMap<>(v1.getCustomMetadata());
        meta.put("kiln.format_version", "2");
        try (RootAllocator alloc = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(v1.getFields(), meta), alloc);
             FileOutputStream out = new FileOutputStream(java.nio.file.Path.of(bad.toUri()).toFile());
             ArrowFileWriter w = new ArrowFileWriter(root, null, out.getChannel())) {
            w.start();
            w.end();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ShardReader.open(fs, bad));
        assertTrue(e.getMessage().contains("bad.arrow: expected the columns tokens: FixedSizeList<Int32>[17] and sources: List<Utf8> (format 2)"),
                e.getMessage());
    }

    @Test
    void anInterruptedWriteLeavesNoVisibleShard() throws IOException {
        Path target = new Path(dir, "shards/train/part-00001.arrow");
        Path staging;
        try (ShardWriter w = ShardWriter.create(fs, target, new ShardSchema.Header(T, VOCAB, TOKENIZER_SHA, "train"), 4)) {
            staging = w.stagingPath();
            RowPacker packer = new RowPacker(T, w::write);
            packer.add(stream(T * 20, 3), T * 20);
            // Mid-write: the rows so far are in a hidden staging file, nothing under the target name.
            assertTrue(staging.getName().startsWith("_"), staging.getName());
            assertTrue(fs.exists(staging));
            assertFalse(fs.exists(target));
            // The task dies here (an exception, a killed executor): no commit.
        }
        assertFalse(fs.exists(target));
        assertFalse(fs.exists(staging), "abandoning a shard removes its staging file");
        assertEquals(List.of(), visibleFiles(new Path(dir, "shards/train")));

        // A bad row mid-stream fails the task the same way.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (ShardWriter w = ShardWriter.create(fs, target, new ShardSchema.Header(T, VOCAB, TOKENIZER_SHA, "train"), 4)) {
                int[] row = new int[T + 1];
                w.write(row);
                row[0] = 0;
                row[3] = VOCAB; // out of the vocabulary
                w.write(row);
            }
        });
        assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
        assertFalse(fs.exists(target));
        assertEquals(List.of(), visibleFiles(new Path(dir, "shards/train")));
    }

    @Test
    void rowsMustOverlapByOneToken() throws IOException {
        try (ShardWriter w = ShardWriter.create(fs, new Path(dir, "x.arrow"), new ShardSchema.Header(T, VOCAB, TOKENIZER_SHA, "train"))) {
            int[] row = new int[T + 1];
            row[T] = 5;
            w.write(row);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(new int[T + 1]));
            assertTrue(e.getMessage().contains("previous row's last token 5"), e.getMessage());
        }
    }

    @Test
    void recommittingReplacesTheOldShard() throws IOException {
        Path target = new Path(dir, "s.arrow");
        writeShard(target, stream(T * 4 + 1, 4), "train", null);
        int[] second = stream(T * 2 + 1, 5);
        ShardWriter.Committed c = writeShard(target, second, "train", null);
        assertEquals(2, c.rows());
        try (ShardReader r = ShardReader.open(fs, target)) {
            assertArrayEquals(Arrays.copyOfRange(second, 0, T + 1), r.iterator().next());
        }
        assertEquals(List.of("s.arrow"), visibleFiles(dir));
    }

    @Test
    void anEmptyShardIsAValidFileWithNoRows() throws IOException {
        Path target = new Path(dir, "empty.arrow");
        ShardWriter.Committed c = writeShard(target, stream(T - 3, 6), "train", null);
        assertEquals(0, c.rows());
        assertEquals(0, c.tokens());
        try (ShardReader r = ShardReader.open(fs, target)) {
            assertFalse(r.iterator().hasNext());
        }
    }

    @Test
    void theReaderRejectsArrowFilesThatAreNotShards() throws IOException {
        Path other = new Path(dir, "other.arrow");
        Schema schema = new Schema(List.of(new Field("x", FieldType.notNullable(new ArrowType.Int(32, true)), null)));
        try (RootAllocator alloc = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(schema, alloc);
             FileOutputStream out = new FileOutputStream(java.nio.file.Path.of(other.toUri()).toFile());
             ArrowFileWriter w = new ArrowFileWriter(root, null, out.getChannel())) {
            w.start();
            ((IntVector) root.getVector(0)).allocateNew(1);
            ((IntVector) root.getVector(0)).set(0, 1);
            root.setRowCount(1);
            w.writeBatch();
            w.end();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ShardReader.open(fs, other));
        assertTrue(e.getMessage().contains("other.arrow is not a Kiln token shard"), e.getMessage());
    }

    @Test
    void manifestRoundTripsAndVerifyCatchesACorruptShard() throws IOException {
        Path target = new Path(dir, "shards/train/part-00000.arrow");
        ShardWriter.Committed c = writeShard(target, stream(T * 9 + 3, 7), "train", null);
        ShardInfo info = new ShardInfo("shards/train/part-00000.arrow", "train", c.rows(), c.tokens(), 2, 3, c.bytes(), c.sha256());
        Manifest m = new Manifest(1, "tokenizer.json", TOKENIZER_SHA, VOCAB, T, Map.of("<|endoftext|>", 0),
                new ObjectMapper().readTree("{\"vocab-size\": 1000}"),
                List.of(new Manifest.InputFile("file:/in/part-0.parquet", 123, 456)), List.of(info));
        m.write(fs, dir);
        Manifest back = Manifest.read(fs, dir);
        assertEquals(m, back);
        assertEquals(List.of(target), back.shardPaths(dir, "train").stream().map(p -> new Path(p.toUri())).toList());
        assertEquals(c.tokens(), back.tokens("train"));
        assertEquals(0, back.tokens("validation"));
        back.verify(fs, dir);

        try (RandomAccessFile f = new RandomAccessFile(java.nio.file.Path.of(target.toUri()).toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xFF);
        }
        fs.delete(new Path(target.getParent(), "." + target.getName() + ".crc"), false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> back.verify(fs, dir));
        assertTrue(e.getMessage().contains("part-00000.arrow has SHA-256"), e.getMessage());
    }

    private List<String> visibleFiles(Path folder) throws IOException {
        List<String> out = new ArrayList<>();
        if (!fs.exists(folder)) {
            return out;
        }
        for (FileStatus st : fs.listStatus(folder)) {
            String n = st.getPath().getName();
            if (!n.startsWith("_") && !n.startsWith(".")) {
                out.add(n);
            }
        }
        return out;
    }
}
