package dev.kiln.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Learning rate as a function of the global step: linear warm-up from 0 to {@code peak} over {@code warmup} steps,
 * then a decay to {@code min} at step {@code total} (its shape is the subclass's {@link #decayed}), then {@code min}.
 * DL4J calls it with the model's iteration count, which the trainers keep equal to the global step.
 *
 * <p>DL4J saves a schedule inside the model's configuration JSON under its class name, so the subclasses' names
 * ({@link WarmupCosineSchedule}, {@link WarmupLinearSchedule}) and their four properties are a stored format: keep them.
 */
public abstract class WarmupSchedule implements ISchedule {
    private final double peak;
    private final double min;
    private final int warmup;
    private final int total;

    protected WarmupSchedule(double peak, double min, int warmup, int total) {
        this.peak = peak;
        this.min = min;
        this.warmup = warmup;
        this.total = total;
    }

    /** The rate at {@code progress} in [0, 1] of the decay, from {@code peak} (0) to {@code min} (1). */
    protected abstract double decayed(double progress);

    /** Rate for the update made at 0-based {@code step}. */
    public double at(long step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        if (step >= total) {
            return min;
        }
        return decayed((double) (step - warmup) / Math.max(1, total - warmup));
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        return at(iteration);
    }

    @Override
    public abstract ISchedule clone();

    @JsonProperty("peak")
    public double getPeak() {
        return peak;
    }

    @JsonProperty("min")
    public double getMin() {
        return min;
    }

    @JsonProperty("warmup")
    public int getWarmup() {
        return warmup;
    }

    @JsonProperty("total")
    public int getTotal() {
        return total;
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && o instanceof WarmupSchedule w && w.peak == peak && w.min == min
                && w.warmup == warmup && w.total == total;
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), peak, min, warmup, total);
    }
}
