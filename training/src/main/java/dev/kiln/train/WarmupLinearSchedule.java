package dev.kiln.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Learning rate as a function of the global step: linear warm-up from 0 to {@code peak} over {@code warmup} steps,
 * then linear decay to {@code min} at step {@code total}, then {@code min} (the schedule BERT-style fine-tuning
 * recipes use; {@link WarmupCosineSchedule} is the cosine one).
 */
public final class WarmupLinearSchedule implements ISchedule {
    private final double peak;
    private final double min;
    private final int warmup;
    private final int total;

    public WarmupLinearSchedule(@JsonProperty("peak") double peak, @JsonProperty("min") double min,
                                @JsonProperty("warmup") int warmup, @JsonProperty("total") int total) {
        this.peak = peak;
        this.min = min;
        this.warmup = warmup;
        this.total = total;
    }

    /** Rate for the update made at 0-based {@code step}. */
    public double at(long step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        if (step >= total) {
            return min;
        }
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        return peak - progress * (peak - min);
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        return at(iteration);
    }

    @Override
    public ISchedule clone() {
        return new WarmupLinearSchedule(peak, min, warmup, total);
    }

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
        return o instanceof WarmupLinearSchedule w && w.peak == peak && w.min == min && w.warmup == warmup && w.total == total;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(peak, min, warmup, total);
    }
}
