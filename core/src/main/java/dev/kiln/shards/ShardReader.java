package dev.kiln.shards;

import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Reads one token shard through the Hadoop FileSystem API, one Arrow record batch (block) at a time, so memory stays
 * at one block (about 4 MiB) whatever the shard size. Iterate it for rows in file order, or use
 * {@link #loadBlock(int)} / {@link #copyRow(int, int[], int)} for random access by block (what {@code dev.kiln.train.data.TokenBatches}
 * does to shuffle).
 *
 * <p>The schema is checked on open ({@link ShardSchema}); a file that is not a Kiln shard fails with its path in the
 * message. Format 1 and 2 shards are read; only format 2 has document sources ({@link #hasSources()},
 * {@link #sources(int)}). Not thread-safe: one reader per thread.
 */
public final class ShardReader implements Iterable<int[]>, Closeable {
    private final Path path;
    private final BufferAllocator allocator;
    private final ArrowFileReader reader;
    private final HadoopSeekableChannel channel;
    private final VectorSchemaRoot root;
    private final ShardSchema.Header header;
    private final String formatVersion;
    private final boolean hasSources;
    private final List<ArrowBlock> blocks;
    private final int rowLength;
    private int loadedBlock = -1;
    private int loadedRows;
    private ArrowBuf loadedData;
    private ArrowBuf loadedSourceOffsets;
    private VarCharVector loadedSourceItems;

    private ShardReader(FileSystem fs, Path path) throws IOException {
        this.path = path;
        long size = fs.getFileStatus(path).getLen();
        allocator = new RootAllocator(Long.MAX_VALUE);
        ArrowFileReader r = null;
        HadoopSeekableChannel in = null;
        try {
            in = new HadoopSeekableChannel(fs.open(path), size);
            r = new ArrowFileReader(in, allocator);
            root = r.getVectorSchemaRoot();
            ShardSchema.Parsed parsed = ShardSchema.parse(root.getSchema(), path.toString());
            header = parsed.header();
            formatVersion = parsed.formatVersion();
            hasSources = parsed.hasSources();
            blocks = List.copyOf(r.getRecordBlocks());
        } catch (IOException | RuntimeException e) {
            if (r != null) {
                r.close();
            }
            allocator.close();
            if (e instanceof IOException io) {
                throw new IOException("cannot read token shard " + path + ": " + e.getMessage(), io);
            }
            throw e;
        }
        reader = r;
        channel = in;
        rowLength = header.rowLength();
    }

    /** Opens a shard; reads only the footer and schema. */
    public static ShardReader open(FileSystem fs, Path shard) throws IOException {
        return new ShardReader(fs, shard);
    }

    public Path path() {
        return path;
    }

    public ShardSchema.Header header() {
        return header;
    }

    /** {@code kiln.format_version} of this shard: {@link ShardSchema#FORMAT_VERSION_1} or {@link ShardSchema#FORMAT_VERSION}. */
    public String formatVersion() {
        return formatVersion;
    }

    /** Whether the shard records its documents' sources (format 2); format 1 shards do not. */
    public boolean hasSources() {
        return hasSources;
    }

    public int contextLength() {
        return header.contextLength();
    }

    /** Tokens per row: {@code contextLength + 1}. */
    public int rowLength() {
        return rowLength;
    }

    public int blockCount() {
        return blocks.size();
    }

    /**
     * Rows of every record batch, from the batches' message headers alone (a few hundred bytes each; no token data is
     * read), so a planner can cut a shard into row ranges without loading it.
     */
    public long[] blockRows() {
        long[] rows = new long[blocks.size()];
        try {
            for (int b = 0; b < rows.length; b++) {
                channel.position(blocks.get(b).getOffset());
                MessageMetadataResult m =
                        MessageSerializer.readMessage(new ReadChannel(channel));
                if (m == null || m.getMessage().headerType() != MessageHeader.RecordBatch) {
                    throw new IllegalStateException(path + ": block " + b + " of the footer is not a record batch");
                }
                RecordBatch batch = (RecordBatch) m.getMessage()
                        .header(new RecordBatch());
                rows[b] = batch.length();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the record batch headers of " + path, e);
        }
        return rows;
    }

    /** Loads record batch {@code block} (if not already loaded) and returns its row count. */
    public int loadBlock(int block) {
        if (block == loadedBlock) {
            return loadedRows;
        }
        try {
            if (!reader.loadRecordBatch(blocks.get(block))) {
                throw new IllegalStateException(path + ": record batch " + block + " is missing");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read record batch " + block + " of " + path, e);
        }
        FixedSizeListVector list = (FixedSizeListVector) root.getVector(ShardSchema.TOKENS);
        IntVector items = (IntVector) list.getDataVector();
        loadedRows = root.getRowCount();
        if (list.getNullCount() > 0 || (long) items.getValueCount() < (long) loadedRows * rowLength) {
            throw new IllegalStateException(path + ": record batch " + block + " has null rows or too few values");
        }
        if (hasSources) {
            ListVector sources = (ListVector) root.getVector(ShardSchema.SOURCES);
            if (sources.getNullCount() > 0 || sources.getValueCount() != loadedRows
                    || sources.getDataVector().getNullCount() > 0) {
                throw new IllegalStateException(path + ": record batch " + block + ": column " + ShardSchema.SOURCES
                        + " has null entries or " + sources.getValueCount() + " rows, expected " + loadedRows + " non-null rows");
            }
            loadedSourceOffsets = sources.getOffsetBuffer();
            loadedSourceItems = (VarCharVector) sources.getDataVector();
        }
        loadedData = items.getDataBuffer();
        loadedBlock = block;
        return loadedRows;
    }

    /** Copies row {@code row} of the loaded block into {@code dst[offset .. offset + rowLength)}. */
    public void copyRow(int row, int[] dst, int offset) {
        if (row < 0 || row >= loadedRows) {
            throw new IndexOutOfBoundsException("row " + row + " of a block of " + loadedRows + " rows in " + path);
        }
        long base = (long) row * rowLength * Integer.BYTES;
        for (int j = 0; j < rowLength; j++) {
            dst[offset + j] = loadedData.getInt(base + (long) j * Integer.BYTES);
        }
    }

    /**
     * Sources of the documents that row {@code row} of the loaded block owns, in stream order ({@link ShardSchema});
     * empty for a row that owns no document start, and for every row of a format 1 shard.
     */
    public List<String> sources(int row) {
        if (row < 0 || row >= loadedRows) {
            throw new IndexOutOfBoundsException("row " + row + " of a block of " + loadedRows + " rows in " + path);
        }
        if (!hasSources) {
            return List.of();
        }
        int from = loadedSourceOffsets.getInt((long) row * ListVector.OFFSET_WIDTH);
        int to = loadedSourceOffsets.getInt((long) (row + 1) * ListVector.OFFSET_WIDTH);
        List<String> out = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            out.add(new String(loadedSourceItems.get(i), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** Counts the rows by loading every block (the manifest has the count without reading the shard). */
    public long countRows() {
        long n = 0;
        for (int b = 0; b < blocks.size(); b++) {
            n += loadBlock(b);
        }
        return n;
    }

    /** Rows in file order; each call to {@code next()} returns a fresh array of {@code contextLength + 1} ids. */
    @Override
    public Iterator<int[]> iterator() {
        return new Iterator<>() {
            private int block = -1;
            private int row;
            private int rowsInBlock;

            @Override
            public boolean hasNext() {
                while (row >= rowsInBlock) {
                    if (block + 1 >= blocks.size()) {
                        return false;
                    }
                    block++;
                    rowsInBlock = loadBlock(block);
                    row = 0;
                }
                return true;
            }

            @Override
            public int[] next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                loadBlock(block);
                int[] out = new int[rowLength];
                copyRow(row++, out, 0);
                return out;
            }
        };
    }

    @Override
    public void close() throws IOException {
        try {
            reader.close();
        } finally {
            allocator.close();
        }
    }
}
