package dev.kiln.train;

import org.nd4j.shade.jackson.annotation.JsonProperty;

/** {@link WarmupSchedule} with linear decay: the schedule BERT-style fine-tuning recipes use. */
public final class WarmupLinearSchedule extends WarmupSchedule {
    public WarmupLinearSchedule(@JsonProperty("peak") double peak, @JsonProperty("min") double min,
                                @JsonProperty("warmup") int warmup, @JsonProperty("total") int total) {
        super(peak, min, warmup, total);
    }

    @Override
    protected double decayed(double progress) {
        return getPeak() - progress * (getPeak() - getMin());
    }

    @Override
    public WarmupLinearSchedule clone() {
        return new WarmupLinearSchedule(getPeak(), getMin(), getWarmup(), getTotal());
    }
}
