package dev.kiln.evaluate;

import dev.kiln.shards.ShardReader;
import dev.kiln.tokenize.bpe.IntList;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Recovers documents, and their sources, from a token shard. Shards keep no document boundaries: a shard's token
 * stream is its documents joined by end-of-text (each followed by one), cut into rows of T+1 ids that overlap by one,
 * with the stream's tail that did not fill a row dropped. So a document is a maximal run of non-end-of-text ids;
 * the last one of a shard may be cut short by the dropped tail, and is scored as far as it goes.
 *
 * <p>A shard is scored in chunks of rows so that one shard can feed many tasks. A chunk owns the documents that
 * start inside it: the one at stream position 0 if it begins with row 0, and every document after an end-of-text at
 * a position in {@code [0, rows * T)} relative to the chunk's first row. It reads on into later rows (and record
 * batches) to finish its last document. Chunks tile the stream, so every document is scored once.
 *
 * <p>Sources: format 2 shards list, per row, the sources of the documents whose start the row owns by the same rule
 * (row {@code floor(p / T)} for the end-of-text at position {@code p}; see {@code dev.kiln.shards.ShardSchema}). So
 * the sources of a chunk's rows, in order, are those of its documents, in order, empty documents included; a
 * document takes the next one when it ends (by then its owning row has been read). Format 1 shards have none: every
 * document's source is null.
 */
public final class ShardDocuments {
    private ShardDocuments() {
    }

    /** Receives each non-empty document: its source (null for a format 1 shard) and its ids, without end-of-text. */
    @FunctionalInterface
    public interface DocumentSink {
        void accept(String source, int[] document);
    }

    /** Calls {@code sink} with each document the chunk {@code [firstBlock, firstBlock + blocks)} owns; returns its rows. */
    public static long forEach(ShardReader reader, int firstBlock, int blocks, int endOfText, Consumer<int[]> sink) {
        return forEachDocument(reader, firstBlock, blocks, endOfText, (source, document) -> sink.accept(document));
    }

    /** {@link #forEachDocument(ShardReader, long[], long, long, int, DocumentSink)} of the rows of blocks {@code [firstBlock, firstBlock + blocks)}. */
    public static long forEachDocument(ShardReader reader, int firstBlock, int blocks, int endOfText, DocumentSink sink) {
        long[] blockRows = reader.blockRows();
        long firstRow = 0;
        for (int b = 0; b < firstBlock; b++) {
            firstRow += blockRows[b];
        }
        long rows = 0;
        for (int b = firstBlock; b < Math.min(firstBlock + blocks, blockRows.length); b++) {
            rows += blockRows[b];
        }
        return forEachDocument(reader, blockRows, firstRow, rows, endOfText, sink);
    }

    /**
     * Calls {@code sink} with the source and ids of each document the chunk of rows {@code [firstRow, firstRow + rows)}
     * owns, in stream order; returns the chunk's rows. {@code blockRows}: {@link ShardReader#blockRows()}. A format 2
     * shard whose sources do not match its documents (one missing, or one left over) is an error naming the shard.
     */
    public static long forEachDocument(ShardReader reader, long[] blockRows, long firstRow, long rows, int endOfText,
                                       DocumentSink sink) {
        int t = reader.contextLength();
        int[] row = new int[reader.rowLength()];
        long total = 0;
        for (long r : blockRows) {
            total += r;
        }
        long endRow = Math.min(firstRow + rows, total); // exclusive
        long chunkRows = Math.max(0, endRow - firstRow);
        if (chunkRows == 0) {
            return 0;
        }
        // The chunk owns positions [0, chunkRows * T) relative to its first row (see the class comment).
        long limit = chunkRows * t;
        long position = 0;
        boolean firstOfChunk = true;
        boolean inDocument = firstRow == 0;
        IntList document = new IntList(1 << 12);
        Sources sources = new Sources(reader);
        int b = 0;
        long blockStart = 0;
        while (blockStart + blockRows[b] <= firstRow) {
            blockStart += blockRows[b++];
        }
        long global = firstRow;
        outer:
        for (; b < blockRows.length; blockStart += blockRows[b++]) {
            int loaded = reader.loadBlock(b);
            for (int r = (int) (global - blockStart); r < loaded; r++, global++) {
                reader.copyRow(r, row, 0);
                if (global < endRow) {
                    sources.addAll(r);
                }
                // Row[0] repeats the previous row's last id; only the chunk's first row contributes it.
                for (int j = firstOfChunk ? 0 : 1; j <= t; j++, position++) {
                    int id = row[j];
                    if (inDocument) {
                        if (id != endOfText) {
                            document.add(id);
                            continue;
                        }
                        emit(document, sources, sink);
                        inDocument = false;
                    }
                    if (position >= limit) {
                        break outer;
                    }
                    if (id == endOfText) {
                        inDocument = true;
                    }
                }
                firstOfChunk = false;
            }
        }
        if (inDocument) {
            // Cut short by the end of the shard, or the empty document after the shard's last end-of-text (no source).
            if (document.size() > 0 || !sources.isEmpty()) {
                emit(document, sources, sink);
            }
        }
        sources.checkConsumed();
        return chunkRows;
    }

    private static void emit(IntList document, Sources sources, DocumentSink sink) {
        String source = sources.next(document.size() > 0);
        if (document.size() > 0) {
            sink.accept(source, document.toArray());
        }
        document.clear();
    }

    /** The sources of the chunk's rows read so far, taken one per document in order. */
    private static final class Sources {
        private final ShardReader reader;
        private final ArrayDeque<String> queue = new ArrayDeque<>();
        private long taken;

        Sources(ShardReader reader) {
            this.reader = reader;
        }

        void addAll(int rowOfLoadedBlock) {
            if (reader.hasSources()) {
                queue.addAll(reader.sources(rowOfLoadedBlock));
            }
        }

        boolean isEmpty() {
            return queue.isEmpty();
        }

        String next(boolean required) {
            if (!reader.hasSources()) {
                return null;
            }
            String s = queue.poll();
            if (s == null && required) {
                throw new IllegalStateException(reader.path() + ": document " + taken + " of a chunk has no entry in column sources "
                        + "(format 2 lists one per document, in the row that owns the document's start)");
            }
            taken++;
            return s;
        }

        void checkConsumed() {
            if (!queue.isEmpty()) {
                throw new IllegalStateException(reader.path() + ": column sources lists " + queue.size()
                        + " more source(s) than the chunk has documents (" + taken + ")");
            }
        }
    }
}
