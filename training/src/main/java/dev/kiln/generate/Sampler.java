package dev.kiln.generate;

import java.util.SplittableRandom;

/** Picks the next token from processed scores: greedy (argmax) or one draw from their softmax. */
public final class Sampler {
    private Sampler() {
    }

    /** The id of the largest score; the lowest id among equal ones (as torch.argmax). */
    public static int argmax(double[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Softmax in double, stable (the maximum is subtracted); {@code -Infinity} scores get probability 0. */
    public static double[] softmax(double[] scores) {
        double max = Double.NEGATIVE_INFINITY;
        for (double s : scores) {
            max = Math.max(max, s);
        }
        double[] p = new double[scores.length];
        double sum = 0;
        for (int i = 0; i < scores.length; i++) {
            p[i] = scores[i] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(scores[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * Inverse-CDF draw: the first id whose cumulative probability (ids in ascending order) exceeds {@code u}, a
     * uniform number in [0, 1). Never returns a token of probability 0.
     */
    public static int sample(double[] scores, double u) {
        double[] p = softmax(scores);
        double target = u;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                cumulative += p[i];
                last = i;
                if (target < cumulative) {
                    return i;
                }
            }
        }
        return last; // u within rounding of 1: the last token that can be drawn
    }

    /**
     * The random stream of one sequence: a function of (seed, prompt index, sequence index) only, so a sequence's
     * text does not depend on how prompts are partitioned over tasks or batched together.
     */
    public static SplittableRandom stream(long seed, long promptIndex, int sequenceIndex) {
        long h = mix(seed);
        h = mix(h ^ mix(promptIndex + 0x9E3779B97F4A7C15L));
        h = mix(h ^ mix(sequenceIndex + 0xC2B2AE3D27D4EB4FL));
        return new SplittableRandom(h);
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
