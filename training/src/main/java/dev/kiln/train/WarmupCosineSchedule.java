package dev.kiln.train;

import org.nd4j.shade.jackson.annotation.JsonProperty;

/** {@link WarmupSchedule} with cosine decay (nanoGPT's {@code get_lr}): what pre-training uses. */
public final class WarmupCosineSchedule extends WarmupSchedule {
    public WarmupCosineSchedule(@JsonProperty("peak") double peak, @JsonProperty("min") double min,
                                @JsonProperty("warmup") int warmup, @JsonProperty("total") int total) {
        super(peak, min, warmup, total);
    }

    @Override
    protected double decayed(double progress) {
        return getMin() + 0.5 * (1 + Math.cos(Math.PI * progress)) * (getPeak() - getMin());
    }

    @Override
    public WarmupCosineSchedule clone() {
        return new WarmupCosineSchedule(getPeak(), getMin(), getWarmup(), getTotal());
    }
}
