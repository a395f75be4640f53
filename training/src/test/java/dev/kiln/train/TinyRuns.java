package dev.kiln.train;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;

import java.util.LinkedHashMap;
import java.util.Map;

/** The tiny model and short schedules the training tests share (d=64, 2 layers, context 64, byte-level SOTU). */
public final class TinyRuns {
    public static final int CONTEXT = 64;

    private TinyRuns() {
    }

    /** kiln.train with the test defaults, then {@code overrides} (keys relative to kiln.train). */
    public static Config config(String shards, String output, Map<String, String> overrides) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.train.shards", shards);
        o.put("kiln.train.output", output);
        o.put("kiln.train.model.layers", "2");
        o.put("kiln.train.model.d-model", "64");
        o.put("kiln.train.model.heads", "4");
        o.put("kiln.train.batch-size", "16");
        o.put("kiln.train.optimizer.learning-rate", "3e-3");
        o.put("kiln.train.optimizer.min-learning-rate", "3e-4");
        o.put("kiln.train.optimizer.warmup-steps", "10");
        o.put("kiln.train.log-every", "10");
        o.put("kiln.train.validation.batches", "4");
        o.put("kiln.train.parallel.prefetch", "2");
        overrides.forEach((k, v) -> o.put("kiln.train." + k, v));
        return KilnConfig.load(null, o);
    }

    public static TrainConfig train(Config c) {
        return TrainConfig.from(c);
    }

    /** The lineage the job would hand over (no SparkSession: no runtime Spark version). */
    public static Lineage lineage(Config c) {
        return Lineage.of("pretrain", c, TrainConfig.SECTION, null);
    }
}
