package dev.kiln.train.parallel;

import java.io.Serializable;

/**
 * How a replica's state is cut into chunks for the trip between driver and executors: the weights (a flat vector of
 * {@code params} floats), then, when they travel, the optimizer state ({@code moments} floats: AdamW's m and v, 2 per
 * weight), each cut into pieces of at most {@code chunkFloats} values. Chunk ids run over both: {@code 0 ..
 * paramChunks()-1} are weights, the rest moments. Offsets are longs: a state may hold more than 2^31 values in
 * total, while one chunk stays far below a Java array's limit.
 */
public record ChunkLayout(long params, long moments, int chunkFloats) implements Serializable {
    public ChunkLayout {
        if (params < 0 || moments < 0 || chunkFloats <= 0) {
            throw new IllegalArgumentException("bad chunk layout: " + params + " params, " + moments + " moments, chunks of "
                    + chunkFloats + " floats");
        }
    }

    /** Chunks of at most {@code chunkMegabytes} MiB (4-byte floats). */
    public static ChunkLayout of(long params, long moments, int chunkMegabytes) {
        return new ChunkLayout(params, moments, (int) Math.min(Integer.MAX_VALUE - 8, chunkMegabytes * (1L << 20) / Float.BYTES));
    }

    public int paramChunks() {
        return chunksOf(params);
    }

    public int chunks() {
        return paramChunks() + chunksOf(moments);
    }

    /** Whether chunk {@code id} is part of the optimizer state (else of the weights). */
    public boolean isMoments(int id) {
        return id >= paramChunks();
    }

    /** Where chunk {@code id} starts in its vector (the weights or the optimizer state). */
    public long offset(int id) {
        return (long) (isMoments(id) ? id - paramChunks() : id) * chunkFloats;
    }

    public int length(int id) {
        long size = isMoments(id) ? moments : params;
        return (int) Math.min(chunkFloats, size - offset(id));
    }

    /** Bytes of one copy of the state this layout moves. */
    public long bytes() {
        return (params + moments) * Float.BYTES;
    }

    private int chunksOf(long n) {
        return (int) ((n + chunkFloats - 1) / chunkFloats);
    }
}
