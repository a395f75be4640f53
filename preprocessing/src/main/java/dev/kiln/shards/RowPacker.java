package dev.kiln.shards;

import java.util.function.Consumer;

/**
 * Cuts a token stream (documents joined by end-of-text) into shard rows of {@code contextLength + 1} tokens that
 * overlap by one: row {@code i} is stream positions {@code [i*T, i*T + T]}. No padding: the tail that does not fill a
 * last row (fewer than T tokens) is counted in {@link #droppedTokens()}, so {@code coveredTokens() + droppedTokens()}
 * always equals the tokens added.
 *
 * <p>The row array handed to the consumer is reused: copy it or write it out before returning.
 */
public final class RowPacker {
    private final int contextLength;
    private final int[] row;
    private final Consumer<int[]> sink;
    private int fill;
    private long rows;
    private long added;

    public RowPacker(int contextLength, Consumer<int[]> sink) {
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
        }
        this.contextLength = contextLength;
        this.row = new int[contextLength + 1];
        this.sink = sink;
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
        sink.accept(row);
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
