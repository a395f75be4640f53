package dev.kiln.shards;

import dev.kiln.common.io.AtomicOutput;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Writes one token shard as an Arrow IPC <em>file</em> (random-access format, footer included) through the Hadoop
 * FileSystem API. Rows go to a sibling staging file whose name starts with {@code _} (Spark, Hadoop and Kiln's own
 * listings skip it); {@link #commit()} closes it and renames it onto the target. Closing without committing, or a
 * crash, never leaves a file under the target name.
 *
 * <p>Every row is checked: length {@code contextLength + 1}, ids in {@code [0, vocabSize)}, and its first token
 * equal to the previous row's last one (the one-token overlap of {@link ShardSchema}). Each row also gets the sources
 * of the documents it owns ({@link ShardSchema}; {@link RowPacker} works them out), written as UTF-8 straight into the
 * Arrow buffers, one string per document, nothing per token. The SHA-256 of the file is
 * computed while it streams out, so committing costs no second read.
 *
 * <p>Not thread-safe: one writer per task.
 */
public final class ShardWriter implements Closeable {
    /** About 4 MiB of int32 per record batch: big enough for throughput, small enough to stream. */
    public static final int TARGET_BATCH_TOKENS = 1 << 20;

    /** What a committed shard is: its final path, size and content hash. */
    public record Committed(Path path, long rows, long tokens, long bytes, String sha256) {
    }

    private final FileSystem fs;
    private final Path target;
    private final Path staging;
    private final ShardSchema.Header header;
    private final int rowLength;
    private final int rowsPerBatch;
    private final BufferAllocator allocator;
    private final VectorSchemaRoot root;
    private final FixedSizeListVector list;
    private final IntVector items;
    private final ListVector sourceLists;
    private final VarCharVector sourceItems;
    private final MessageDigest digest;
    private final CountingOutputStream counted;
    private final ArrowFileWriter writer;
    private final int[] previousRow;
    private int inBatch;
    private long rows;
    private boolean committed;
    private boolean closed;

    private ShardWriter(FileSystem fs, Path target, ShardSchema.Header header, int rowsPerBatch) throws IOException {
        if (rowsPerBatch < 1) {
            throw new IllegalArgumentException("rowsPerBatch must be >= 1, got " + rowsPerBatch);
        }
        this.fs = fs;
        this.target = target;
        this.staging = AtomicOutput.stagingFor(target);
        this.header = header;
        this.rowLength = header.rowLength();
        this.rowsPerBatch = rowsPerBatch;
        this.previousRow = new int[rowLength];
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        fs.mkdirs(target.getParent());
        allocator = new RootAllocator(Long.MAX_VALUE);
        VectorSchemaRoot r = null;
        ArrowFileWriter w = null;
        OutputStream out = null;
        try {
            r = VectorSchemaRoot.create(ShardSchema.schema(header), allocator);
            list = (FixedSizeListVector) r.getVector(ShardSchema.TOKENS);
            list.setInitialCapacity(rowsPerBatch);
            list.allocateNew();
            items = (IntVector) list.getDataVector();
            sourceLists = (ListVector) r.getVector(ShardSchema.SOURCES);
            sourceLists.setInitialCapacity(rowsPerBatch);
            sourceLists.allocateNew();
            sourceItems = (VarCharVector) sourceLists.getDataVector();
            out = fs.create(staging, false);
            counted = new CountingOutputStream(new DigestOutputStream(out, digest));
            w = new ArrowFileWriter(r, null, Channels.newChannel(counted));
            w.start();
        } catch (IOException | RuntimeException e) {
            closeQuietly(w);
            if (w == null && out != null) {
                out.close();
            }
            if (r != null) {
                r.close();
            }
            allocator.close();
            fs.delete(staging, false);
            throw e;
        }
        root = r;
        writer = w;
    }

    /** Opens a writer for {@code target} (normally {@code <dir>/shards/<split>/<name>.arrow}). */
    public static ShardWriter create(FileSystem fs, Path target, ShardSchema.Header header) throws IOException {
        return create(fs, target, header, Math.max(1, TARGET_BATCH_TOKENS / header.rowLength()));
    }

    public static ShardWriter create(FileSystem fs, Path target, ShardSchema.Header header, int rowsPerBatch) throws IOException {
        return new ShardWriter(fs, target, header, rowsPerBatch);
    }

    public ShardSchema.Header header() {
        return header;
    }

    /** The hidden file rows go to until {@link #commit()}. */
    public Path stagingPath() {
        return staging;
    }

    public long rows() {
        return rows;
    }

    /** Appends one row of {@code contextLength + 1} token ids that owns no document start. */
    public void write(int[] row) {
        write(row, 0, List.of());
    }

    /** Appends one row of {@code contextLength + 1} token ids and the sources of the documents it owns. */
    public void write(int[] row, List<String> sources) {
        write(row, 0, sources);
    }

    /** Appends the {@code contextLength + 1} ids starting at {@code tokens[offset]}, owning no document start. */
    public void write(int[] tokens, int offset) {
        write(tokens, offset, List.of());
    }

    /**
     * Appends the {@code contextLength + 1} ids starting at {@code tokens[offset]} and the sources (not null) of the
     * documents whose start this row owns, in stream order (see {@link ShardSchema}).
     */
    public void write(int[] tokens, int offset, List<String> sources) {
        if (committed || closed) {
            throw new IllegalStateException("shard " + target + " is already " + (committed ? "committed" : "closed"));
        }
        if (offset < 0 || tokens.length - offset < rowLength) {
            throw new IllegalArgumentException("a row needs " + rowLength + " tokens, got " + (tokens.length - offset) + " from offset " + offset);
        }
        if (rows > 0 && tokens[offset] != previousRow[rowLength - 1]) {
            throw new IllegalArgumentException("row " + rows + " of " + target + " must start with the previous row's last token "
                    + previousRow[rowLength - 1] + " (rows overlap by one token), got " + tokens[offset]);
        }
        int vocab = header.vocabSize();
        int base = inBatch * rowLength;
        for (int j = 0; j < rowLength; j++) {
            int id = tokens[offset + j];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " at row " + rows + ", position " + j + " is outside the vocabulary [0, " + vocab + ")");
            }
            items.set(base + j, id);
        }
        list.setNotNull(inBatch);
        int start = sourceLists.startNewValue(inBatch);
        for (int k = 0; k < sources.size(); k++) {
            String source = sources.get(k);
            if (source == null) {
                throw new IllegalArgumentException("row " + rows + " of " + target + ": document source " + k + " is null");
            }
            sourceItems.setSafe(start + k, source.getBytes(StandardCharsets.UTF_8));
        }
        sourceLists.endValue(inBatch, sources.size());
        System.arraycopy(tokens, offset, previousRow, 0, rowLength);
        inBatch++;
        rows++;
        if (inBatch == rowsPerBatch) {
            flushBatch();
        }
    }

    private void flushBatch() {
        if (inBatch == 0) {
            return;
        }
        root.setRowCount(inBatch);
        try {
            writer.writeBatch();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a record batch to " + staging, e);
        }
        sourceLists.reset(); // keeps its buffers: the next batch starts at offset 0
        inBatch = 0;
    }

    /** Finishes the file (footer), closes it and renames it onto the target, replacing an older shard of that name. */
    public Committed commit() throws IOException {
        if (committed || closed) {
            throw new IllegalStateException("shard " + target + " is already " + (committed ? "committed" : "closed"));
        }
        flushBatch();
        writer.end();
        writer.close();
        root.close();
        allocator.close();
        closed = true;
        AtomicOutput.commit(fs, staging, target);
        committed = true;
        long tokens = rows == 0 ? 0 : rows * header.contextLength() + 1;
        return new Committed(target, rows, tokens, counted.count, HexFormat.of().formatHex(digest.digest()));
    }

    /** Without a prior {@link #commit()}, abandons the shard: the staging file is deleted and the target untouched. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(writer);
        root.close();
        allocator.close();
        fs.delete(staging, false);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // Abandoning a shard: the staging file is deleted next, a close failure changes nothing.
        }
    }

    private static final class CountingOutputStream extends FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
