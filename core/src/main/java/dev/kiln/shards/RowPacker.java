package dev.kiln.shards;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Cuts a token stream (documents joined by end-of-text) into shard rows of {@code contextLength + 1} tokens that
 * overlap by one: row {@code i} is stream positions {@code [i*T, i*T + T]}. No padding: the tail that does not fill a
 * last row (fewer than T tokens) is counted in {@link #droppedTokens()}, so {@code coveredTokens() + droppedTokens()}
 * always equals the tokens added.
 *
 * <p>Call {@link #startDocument(String)} before adding a document's tokens to record its source: a row is handed the
 * sources of the documents whose start it owns ({@link ShardSchema}). The document that starts at stream position
 * {@code q} is owned by row {@code floor((q - 1) / T)} (row 0 for {@code q = 0}), i.e. by the row after the previous
 * document's end-of-text, which is always the row being filled when the document starts: a row is emitted as soon as
 * its last token arrives, and that token (position {@code (i+1) * T}) belongs to the next row.
 *
 * <p>The row array and source list handed to the sink are reused: copy them or write them out before returning.
 */
public final class RowPacker {
    /** Receives each full row and the sources of the documents it owns. */
    @FunctionalInterface
    public interface RowSink {
        void accept(int[] row, List<String> sources);
    }

    private final int contextLength;
    private final int[] row;
    private final RowSink sink;
    private final List<String> sources = new ArrayList<>();
    private int fill;
    private long rows;
    private long added;

    /** A packer whose sink ignores sources. */
    public RowPacker(int contextLength, Consumer<int[]> sink) {
        this(contextLength, (RowSink) (row, sources) -> sink.accept(row));
    }

    /** A packer that hands each row the sources of the documents it owns (a factory: a lambda would be ambiguous). */
    public static RowPacker withSources(int contextLength, RowSink sink) {
        return new RowPacker(contextLength, sink);
    }

    private RowPacker(int contextLength, RowSink sink) {
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
        }
        this.contextLength = contextLength;
        this.row = new int[contextLength + 1];
        this.sink = sink;
    }

    /** Records that a document from {@code source} starts at the next token added; the current row owns it. */
    public void startDocument(String source) {
        sources.add(source);
    }

    public void add(int token) {
        row[fill++] = token;
        added++;
        if (fill == row.length) {
            emit();
        }
    }

    /** Adds {@code tokens[0 .. length)}. */
    public void add(int[] tokens, int length) {
        int i = 0;
        while (i < length) {
            int n = Math.min(length - i, row.length - fill);
            System.arraycopy(tokens, i, row, fill, n);
            fill += n;
            i += n;
            added += n;
            if (fill == row.length) {
                emit();
            }
        }
    }

    private void emit() {
        sink.accept(row, sources);
        sources.clear();
        rows++;
        // The last token of this row is the first of the next: it is the label of position T-1 and the input at 0.
        row[0] = row[contextLength];
        fill = 1;
    }

    public long rows() {
        return rows;
    }

    public long tokensAdded() {
        return added;
    }

    /** Stream positions inside emitted rows: {@code rows * T + 1}, or 0 before the first row. */
    public long coveredTokens() {
        return rows == 0 ? 0 : rows * contextLength + 1;
    }

    /** Tokens after the last full row (the end of the stream, shorter than one row). */
    public long droppedTokens() {
        return added - coveredTokens();
    }
}
