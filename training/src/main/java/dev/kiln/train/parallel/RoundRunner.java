package dev.kiln.train.parallel;

import dev.kiln.train.data.DataPosition;

/**
 * Runs the optimizer steps of one round and leaves the result in the global replica: in this JVM
 * ({@link LocalRounds}) or as parameter averaging over Spark tasks ({@link SparkAveraging}).
 */
public interface RoundRunner extends AutoCloseable {
    /** {@code steps} steps starting at global step {@code global.step()}; afterwards {@code global} holds the result. */
    RoundStats run(Replica global, int steps);

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
