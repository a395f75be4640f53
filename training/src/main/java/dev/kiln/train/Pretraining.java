package dev.kiln.train;

import dev.kiln.checkpoint.CheckpointStore;
import dev.kiln.model.GptConfig;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.train.data.ShardBatches;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;

/**
 * Wires a pre-training run from its inputs: the shard folder's manifest (vocabulary, context length, splits,
 * tokenizer), the {@code kiln.train} config and the output folder ({@code checkpoints/}, {@code metrics.jsonl}).
 */
public final class Pretraining {
    private static final Logger LOG = LoggerFactory.getLogger(Pretraining.class);

    private Pretraining() {
    }

    /** The model the config and the shards describe together. */
    public static GptConfig modelShape(TrainConfig cfg, Manifest manifest) {
        TrainConfig.ModelShape m = cfg.model();
        return new GptConfig(manifest.vocabSize(), manifest.contextLength(), m.dModel(), m.layers(), m.heads(), m.mlpRatio());
    }

    /** As {@link #run(SparkSession, TrainConfig, String, boolean)}, recording the config record itself as JSON. */
    public static Pretrainer.Result run(SparkSession spark, TrainConfig cfg, boolean resume) throws IOException {
        return run(spark, cfg, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(cfg), resume);
    }

    /**
     * Runs (or with {@code resume}, continues) pre-training. {@code spark} may be null when
     * {@code parallel.workers = 1}. {@code configJson} is the effective kiln.train section, stored in checkpoints.
     */
    public static Pretrainer.Result run(SparkSession spark, TrainConfig cfg, String configJson, boolean resume)
            throws IOException {
        Configuration hadoop = spark != null ? spark.sparkContext().hadoopConfiguration() : new Configuration();
        Path shards = new Path(cfg.shards());
        FileSystem shardFs = shards.getFileSystem(hadoop);
        Manifest manifest = Manifest.read(shardFs, shards);
        List<Path> train = manifest.shardPaths(shards, ShardSchema.TRAIN);
        List<Path> validation = manifest.shardPaths(shards, ShardSchema.VALIDATION);
        if (train.isEmpty()) {
            throw new IllegalStateException(new Path(shards, Manifest.FILE_NAME) + " lists no shards of split \"train\"");
        }
        GptConfig shape = modelShape(cfg, manifest);
        List<int[][]> validationBatches = validation.isEmpty() ? List.of()
                : ShardBatches.firstBatches(shardFs, validation, cfg.batchSize(), cfg.validationBatches());
        if (validationBatches.isEmpty()) {
            LOG.warn("{} has no validation rows: no validation loss will be measured", shards);
        }
        LOG.info("[pretrain] shards {}: {} train shards ({} tokens), {} validation shards; vocabulary {}, context {}",
                shards, train.size(), manifest.tokens(ShardSchema.TRAIN), validation.size(), manifest.vocabSize(),
                manifest.contextLength());

        Path output = new Path(cfg.output());
        FileSystem outFs = output.getFileSystem(hadoop);
        CheckpointStore checkpoints = new CheckpointStore(outFs, new Path(output, "checkpoints"), cfg.checkpointKeep());
        MetricsLog metrics = new MetricsLog(outFs, new Path(output, "metrics.jsonl"));
        ShardBatches.Factory data = ShardBatches.Factory.of(train, cfg.seed());
        if (cfg.parallel().workers() > 1 && spark == null) {
            throw new IllegalArgumentException("kiln.train.parallel.workers = " + cfg.parallel().workers() + " needs a SparkSession");
        }
        try (RoundRunner runner = cfg.parallel().workers() == 1 ? new LocalRounds(data, cfg)
                : new SparkAveraging(spark, cfg, shape, data)) {
            return new Pretrainer(cfg, shape, runner, validationBatches, checkpoints, metrics, configJson,
                    manifest.tokenizerSha256()).run(resume);
        }
    }
}
