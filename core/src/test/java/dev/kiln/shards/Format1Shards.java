package dev.kiln.shards;

import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.channels.Channels;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Format 1 shards ({@code tokens} only, no {@code sources}), as Kiln wrote them before format 2: this Kiln reads them
 * but no longer writes them, so the tests that check they are still read make them here.
 */
public final class Format1Shards {
    private Format1Shards() {
    }

    /** The format 1 schema: the single column {@code tokens}, FixedSizeList&lt;Int32&gt;[rowLength]. */
    public static Schema schema(ShardSchema.Header header) {
        Field item = new Field(ShardSchema.ITEM, FieldType.notNullable(new ArrowType.Int(32, true)), null);
        Field tokens = new Field(ShardSchema.TOKENS, FieldType.notNullable(new ArrowType.FixedSizeList(header.rowLength())), List.of(item));
        Map<String, String> meta = header.metadata();
        meta.put(ShardSchema.META_FORMAT_VERSION, ShardSchema.FORMAT_VERSION_1);
        return new Schema(List.of(tokens), meta);
    }

    /**
     * Writes the rows of {@code source} (a shard of any format) into a new format 1 shard {@code target} with the same
     * header, {@code rowsPerBatch} rows per record batch; returns what a {@link ShardWriter} would for it.
     */
    public static ShardWriter.Committed copy(FileSystem fs, Path source, Path target, int rowsPerBatch) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long rows = 0;
        ShardSchema.Header header;
        try (ShardReader r = ShardReader.open(fs, source);
             RootAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(schema(r.header()), allocator);
             // Closing the writer closes its channel and the stream below it.
             ArrowFileWriter writer = new ArrowFileWriter(root, null, Channels.newChannel(new DigestOutputStream(fs.create(target, false), digest)))) {
            header = r.header();
            int rowLength = header.rowLength();
            FixedSizeListVector list = (FixedSizeListVector) root.getVector(ShardSchema.TOKENS);
            list.setInitialCapacity(rowsPerBatch);
            list.allocateNew();
            IntVector items = (IntVector) list.getDataVector();
            writer.start();
            int inBatch = 0;
            for (int[] row : r) {
                for (int j = 0; j < rowLength; j++) {
                    items.set(inBatch * rowLength + j, row[j]);
                }
                list.setNotNull(inBatch);
                rows++;
                if (++inBatch == rowsPerBatch) {
                    root.setRowCount(inBatch);
                    writer.writeBatch();
                    inBatch = 0;
                }
            }
            if (inBatch > 0) {
                root.setRowCount(inBatch);
                writer.writeBatch();
            }
            writer.end();
        }
        long tokens = rows == 0 ? 0 : rows * header.contextLength() + 1;
        return new ShardWriter.Committed(target, rows, tokens, fs.getFileStatus(target).getLen(), HexFormat.of().formatHex(digest.digest()));
    }

    /** Rewrites the shard {@code shard} in place as format 1 (the same rows, {@code rowsPerBatch} per record batch). */
    public static ShardWriter.Committed rewrite(FileSystem fs, Path shard, int rowsPerBatch) throws IOException {
        Path format2 = new Path(shard.getParent(), "_format2-" + shard.getName());
        if (!fs.rename(shard, format2)) {
            throw new IOException("cannot rename " + shard + " to " + format2);
        }
        ShardWriter.Committed c = copy(fs, format2, shard, rowsPerBatch);
        fs.delete(format2, false);
        return c;
    }
}
