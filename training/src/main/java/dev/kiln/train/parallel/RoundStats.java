package dev.kiln.train.parallel;

import java.io.Serializable;

/**
 * What one or more replicas did in one round of local steps. Values add across workers (Spark's reduce);
 * {@link #computeSeconds} keeps the slowest worker's time, the round's critical path.
 *
 * @param losses per-step training loss summed over workers (divide by {@code workers} for the mean)
 */
public record RoundStats(int workers, int steps, long tokens, double[] losses, double gradNormSum,
                         double computeSeconds) implements Serializable {

    public RoundStats plus(RoundStats o) {
        double[] sum = losses.clone();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += o.losses[i];
        }
        return new RoundStats(workers + o.workers, steps, tokens + o.tokens, sum, gradNormSum + o.gradNormSum,
                Math.max(computeSeconds, o.computeSeconds));
    }

    /** Mean training loss of local step {@code i} of this round, over workers. */
    public double meanLoss(int i) {
        return losses[i] / workers;
    }

    public double meanLoss() {
        double s = 0;
        for (double l : losses) {
            s += l;
        }
        return s / (workers * (double) steps);
    }

    public double meanGradNorm() {
        return gradNormSum / (workers * (double) steps);
    }
}
