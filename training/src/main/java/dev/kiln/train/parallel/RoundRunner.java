package dev.kiln.train.parallel;

import dev.kiln.train.data.DataPosition;

/**
 * Runs the optimizer steps of one round and leaves the result in the global replica: in this JVM
 * ({@link LocalRounds}) or as parameter averaging over Spark tasks ({@link SparkAveraging}).
 */
public interface RoundRunner extends AutoCloseable {
    /** {@code steps} steps starting at global step {@code global.step()}; afterwards {@code global} holds the result. */
    RoundStats run(Replica global, int steps);

    /**
     * As {@link #run(Replica, int)}; {@code withOptimizerState} false says the caller will not read the optimizer
     * state of {@code global} before the next round (no checkpoint follows), so a runner that keeps per-replica
     * moments ({@code average-optimizer-state = false}) need not bring them back.
     */
    default RoundStats run(Replica global, int steps, boolean withOptimizerState) {
        return run(global, steps);
    }

    /** How many local steps a round may have at most (the averaging period; unbounded in one JVM). */
    int maxRoundSteps();

    /** Where the training data continues. */
    DataPosition position();

    /** State of the outer optimizer (DiLoCo momentum), or null when there is none. */
    float[] outerState();

    /** Restores what a checkpoint saved. */
    void restore(DataPosition position, float[] outerState);

    @Override
    void close();
}
