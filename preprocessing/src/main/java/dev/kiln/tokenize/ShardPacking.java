package dev.kiln.tokenize;

import dev.kiln.common.log.Progress;
import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.IntList;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.Iterator;

/**
 * One partition's work: encode its documents in order, join them with end-of-text, cut the stream into overlapping
 * rows ({@link RowPacker}) and write them to one shard. Plain Java over an iterator of texts; Spark calls it per
 * partition.
 */
public final class ShardPacking {
    private ShardPacking() {
    }

    /**
     * @param outputDir    the folder of manifest.json; {@code relativePath} is the shard's path below it
     * @param specialInText whether literal special-token strings in a document map to their ids
     */
    public static ShardInfo pack(Iterator<String> documents, BpeTokenizer tokenizer, ShardSchema.Header header, int endOfText,
                                 boolean specialInText, FileSystem fs, Path outputDir, String relativePath) throws IOException {
        Path target = new Path(outputDir, relativePath);
        Progress progress = new Progress("tokenize " + relativePath, -1, -1);
        long documentsPacked = 0;
        try (ShardWriter writer = ShardWriter.create(fs, target, header)) {
            RowPacker packer = new RowPacker(header.contextLength(), writer::write);
            IntList ids = new IntList(1 << 16);
            while (documents.hasNext()) {
                String text = documents.next();
                ids.clear();
                if (specialInText) {
                    tokenizer.encodeWithSpecialTokens(text, ids);
                } else {
                    tokenizer.encode(text, ids);
                }
                ids.add(endOfText);
                packer.add(ids.array(), ids.size());
                documentsPacked++;
                progress.add(1, text.length());
            }
            ShardWriter.Committed c = writer.commit();
            progress.done();
            return new ShardInfo(relativePath, header.split(), c.rows(), c.tokens(), packer.droppedTokens(), documentsPacked, c.bytes(), c.sha256());
        }
    }
}
