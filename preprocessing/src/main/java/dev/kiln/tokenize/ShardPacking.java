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
 * rows ({@link RowPacker}) and write them to one shard, each row with the sources of the documents it owns. Plain
 * Java over an iterator of documents; Spark calls it per partition.
 */
public final class ShardPacking {
    private ShardPacking() {
    }

    /** A document to pack: where it came from (recorded in the shard) and its text. */
    public record SourcedText(String source, String text) {
    }

    /**
     * @param outputDir    the folder of manifest.json; {@code relativePath} is the shard's path below it
     * @param specialInText whether literal special-token strings in a document map to their ids
     */
    public static ShardInfo pack(Iterator<SourcedText> documents, BpeTokenizer tokenizer, ShardSchema.Header header, int endOfText,
                                 boolean specialInText, FileSystem fs, Path outputDir, String relativePath) throws IOException {
        Path target = new Path(outputDir, relativePath);
        Progress progress = new Progress("tokenize " + relativePath, -1, -1);
        long documentsPacked = 0;
        try (ShardWriter writer = ShardWriter.create(fs, target, header)) {
            RowPacker packer = RowPacker.withSources(header.contextLength(), (row, sources) -> writer.write(row, 0, sources));
            IntList ids = new IntList(1 << 16);
            while (documents.hasNext()) {
                SourcedText doc = documents.next();
                String text = doc.text();
                ids.clear();
                if (specialInText) {
                    tokenizer.encodeWithSpecialTokens(text, ids);
                } else {
                    tokenizer.encode(text, ids);
                }
                ids.add(endOfText);
                packer.startDocument(doc.source());
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
