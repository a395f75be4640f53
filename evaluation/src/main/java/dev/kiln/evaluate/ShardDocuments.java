package dev.kiln.evaluate;

import dev.kiln.shards.ShardReader;
import dev.kiln.tokenize.bpe.IntList;

import java.util.function.Consumer;

/**
 * Recovers documents from a token shard. Shards keep no document boundaries or sources: a shard's token stream
 * is its documents joined by end-of-text (each followed by one), cut into rows of T+1 ids that overlap by one,
 * with the stream's tail that did not fill a row dropped. So a document is a maximal run of non-end-of-text ids;
 * the last one of a shard may be cut short by the dropped tail, and is scored as far as it goes.
 *
 * <p>A shard is scored in chunks of Arrow record batches (blocks) so that one shard can feed many tasks. A chunk
 * owns the documents that start inside it: the one at stream position 0 if it begins with block 0, and every
 * document after an end-of-text at a position in {@code [0, rows * T)} relative to the chunk's first row. It reads
 * on into later blocks to finish its last document. Chunks tile the stream, so every document is scored once.
 */
public final class ShardDocuments {
    private ShardDocuments() {
    }

    /** Calls {@code sink} with each document the chunk {@code [firstBlock, firstBlock + blocks)} owns; returns its rows. */
    public static long forEach(ShardReader reader, int firstBlock, int blocks, int endOfText, Consumer<int[]> sink) {
        int t = reader.contextLength();
        int[] row = new int[reader.rowLength()];
        int lastBlock = Math.min(firstBlock + blocks, reader.blockCount()) - 1;
        long chunkRows = 0;
        // The chunk's end is known once its last block is loaded; positions before that are all below it.
        long limit = Long.MAX_VALUE;
        long position = 0;
        boolean firstRow = true;
        boolean inDocument = firstBlock == 0;
        IntList document = new IntList(1 << 12);
        outer:
        for (int b = firstBlock; b < reader.blockCount(); b++) {
            int rows = reader.loadBlock(b);
            if (b <= lastBlock) {
                chunkRows += rows;
                if (b == lastBlock) {
                    limit = chunkRows * t;
                }
            }
            for (int r = 0; r < rows; r++) {
                reader.copyRow(r, row, 0);
                // Row[0] repeats the previous row's last id; only the chunk's first row contributes it.
                for (int j = firstRow ? 0 : 1; j <= t; j++, position++) {
                    int id = row[j];
                    if (inDocument) {
                        if (id != endOfText) {
                            document.add(id);
                            continue;
                        }
                        emit(document, sink);
                        inDocument = false;
                    }
                    if (position >= limit) {
                        break outer;
                    }
                    if (id == endOfText) {
                        inDocument = true;
                    }
                }
                firstRow = false;
            }
        }
        if (inDocument) {
            emit(document, sink); // cut short by the end of the shard
        }
        return chunkRows;
    }

    private static void emit(IntList document, Consumer<int[]> sink) {
        if (document.size() > 0) {
            sink.accept(document.toArray());
        }
        document.clear();
    }
}
