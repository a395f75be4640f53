package dev.kiln.train.parallel;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * Copies chunks of a {@link ChunkLayout} out of and into a replica's flat state views (ND4J's off-heap weight and
 * updater-state vectors, shape {@code [1, n]}), one chunk at a time: the whole state is never copied onto the heap.
 */
public final class StateChunks {
    private StateChunks() {
    }

    /** A copy of chunk {@code id} of {@code replica}'s state. */
    public static float[] read(Replica replica, ChunkLayout layout, int id) {
        return slice(view(replica, layout, id), layout, id).toFloatVector();
    }

    /** Overwrites chunk {@code id} of {@code replica}'s state with {@code values}. */
    public static void write(Replica replica, ChunkLayout layout, int id, float[] values) {
        if (values.length != layout.length(id)) {
            throw new IllegalArgumentException("chunk " + id + " has " + values.length + " values, the layout expects "
                    + layout.length(id));
        }
        INDArray target = slice(view(replica, layout, id), layout, id);
        target.assign(Nd4j.createFromArray(values).reshape(target.shape()));
    }

    private static INDArray view(Replica replica, ChunkLayout layout, int id) {
        INDArray v = layout.isMoments(id) ? replica.model().getUpdater().getStateViewArray() : replica.model().params();
        long expected = layout.isMoments(id) ? layout.moments() : layout.params();
        if (v == null || v.length() != expected) {
            throw new IllegalStateException("the replica's " + (layout.isMoments(id) ? "optimizer state" : "weights")
                    + " hold " + (v == null ? 0 : v.length()) + " values, the chunk layout expects " + expected);
        }
        return v;
    }

    /** A copy of {@code length} values of a flat vector ({@code [n]} or {@code [1, n]}) from {@code from}. */
    public static float[] copy(INDArray flat, long from, int length) {
        return slice(flat, from, from + length).toFloatVector();
    }

    /** Overwrites {@code values.length} values of a flat vector from {@code from}. */
    public static void assign(INDArray flat, long from, float[] values) {
        INDArray target = slice(flat, from, from + values.length);
        target.assign(Nd4j.createFromArray(values).reshape(target.shape()));
    }

    private static INDArray slice(INDArray flat, ChunkLayout layout, int id) {
        return slice(flat, layout.offset(id), layout.offset(id) + layout.length(id));
    }

    private static INDArray slice(INDArray flat, long from, long to) {
        if (flat.rank() == 2 && flat.rows() == 1) {
            return flat.get(NDArrayIndex.point(0), NDArrayIndex.interval(from, to));
        }
        if (flat.rank() == 1) {
            return flat.get(NDArrayIndex.interval(from, to));
        }
        throw new IllegalStateException("expected a flat [1, n] state vector, got shape " + Arrays.toString(flat.shape()));
    }
}
