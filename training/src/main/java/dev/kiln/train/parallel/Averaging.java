package dev.kiln.train.parallel;

/**
 * The arithmetic of parameter averaging, on flat float vectors (no Spark, no ND4J: testable by hand).
 */
public final class Averaging {
    private Averaging() {
    }

    /** {@code into += other}, element-wise; returns {@code into}. */
    public static float[] addInto(float[] into, float[] other) {
        if (into.length != other.length) {
            throw new IllegalArgumentException("cannot add vectors of " + into.length + " and " + other.length + " values");
        }
        for (int i = 0; i < into.length; i++) {
            into[i] += other[i];
        }
        return into;
    }

    /** {@code sum / n} in place; returns {@code sum}. */
    public static float[] divide(float[] sum, int n) {
        float inv = 1f / n;
        for (int i = 0; i < sum.length; i++) {
            sum[i] *= inv;
        }
        return sum;
    }

    /**
     * DiLoCo's outer step (arXiv 2311.08105, Algorithm 1): the outer gradient is {@code global - mean} of the
     * replicas, applied with SGD and Nesterov momentum in PyTorch's form:
     * {@code m = mu*m + g; global -= lr * (g + mu*m)}. With lr 1 and mu 0 it is plain averaging.
     * Updates {@code global} and {@code momentum} in place.
     */
    public static void nesterovStep(float[] global, float[] mean, float[] momentum, double lr, double mu) {
        if (global.length != mean.length || global.length != momentum.length) {
            throw new IllegalArgumentException("global, mean and momentum must have the same length");
        }
        for (int i = 0; i < global.length; i++) {
            double g = (double) global[i] - mean[i];
            double m = mu * momentum[i] + g;
            momentum[i] = (float) m;
            global[i] = (float) (global[i] - lr * (g + mu * m));
        }
    }
}
