package dev.kiln.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.OperatingSystemMXBean;
import dev.kiln.common.config.Lineage;
import dev.kiln.model.GptConfig;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.ShardBatches;
import dev.kiln.train.parallel.LocalRounds;
import dev.kiln.train.parallel.ReplicaFactory;
import dev.kiln.train.parallel.RoundRunner;
import dev.kiln.train.parallel.RowFormat;
import dev.kiln.train.parallel.SparkAveraging;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.javacpp.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
        return new GptConfig(manifest.vocabSize(), manifest.contextLength(), m.dModel(), m.layers(), m.heads(), m.mlpRatio(),
                m.tieEmbeddings(), m.headBias());
    }

    /** {@code resume} ({@code --resume}) means {@link ResumePolicy.Mode#ALWAYS}; without it, {@code kiln.train.resume} decides. */
    public static Pretrainer.Result run(SparkSession spark, TrainConfig cfg, Lineage lineage, boolean resume)
            throws IOException {
        return run(spark, cfg, lineage, resume ? ResumePolicy.Mode.ALWAYS : cfg.resume());
    }

    /**
     * What a run would do, from the shards' manifest and the newest checkpoint's state.json (no model is built or
     * loaded, nothing is written): {@code --dry-run} prints it. Fails as the run would on missing shards or a
     * checkpoint of a different run.
     */
    public static String plan(TrainConfig cfg, Configuration hadoop, ResumePolicy.Mode mode) throws IOException {
        Path shards = new Path(cfg.shards());
        FileSystem shardFs = shards.getFileSystem(hadoop);
        Manifest manifest = Manifest.read(shardFs, shards);
        List<Path> train = manifest.shardPaths(shards, ShardSchema.TRAIN);
        Path output = new Path(cfg.output());
        CheckpointStore checkpoints = new CheckpointStore(output.getFileSystem(hadoop), new Path(output, "checkpoints"), cfg.checkpointKeep());
        Optional<Path> latest = checkpoints.latest();
        boolean resume = decide(checkpoints, latest, mode, cfg, manifest);
        StringBuilder sb = new StringBuilder();
        sb.append("  shards: ").append(shards).append(": ").append(train.size()).append(" train shard(s), ")
                .append(manifest.tokens(ShardSchema.TRAIN)).append(" train tokens; vocabulary ").append(manifest.vocabSize())
                .append(", context ").append(manifest.contextLength()).append('\n');
        sb.append("  model: ").append(modelShape(cfg, manifest)).append('\n');
        sb.append(MemoryModel.of(modelShape(cfg, manifest), cfg).describe());
        sb.append("  output: ").append(output).append(" (").append(ResumePolicy.KEY).append(" = ")
                .append(mode.name().toLowerCase()).append(")\n");
        if (resume && latest.isPresent()) {
            long step = checkpoints.readState(latest.get()).path("step").asLong();
            sb.append("  would resume from checkpoint ").append(latest.get()).append(" (step ").append(step).append(" of ")
                    .append(cfg.steps()).append(")\n");
        } else if (latest.isPresent()) {
            checkpoints.refuseStartOver("kiln.train.output", "pass --resume (or set " + ResumePolicy.KEY + " = auto)");
        } else {
            sb.append("  would start at step 0 and train ").append(cfg.steps()).append(" steps\n");
        }
        return sb.toString();
    }

    /** What this JVM and, on a cluster, each executor were given (Spark's configuration, JavaCPP's limits, the machine). */
    static MemoryModel.Given given(SparkSession spark) {
        long physical = ((OperatingSystemMXBean) ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
        long heap = Runtime.getRuntime().maxMemory();
        long offHeap = limit(Pointer.maxBytes()); // JavaCPP: 0 is no limit
        if (spark == null || spark.sparkContext().master().startsWith("local")) {
            return new MemoryModel.Given(heap, offHeap, physical, 0, 0, 0);
        }
        SparkConf conf = spark.sparkContext().getConf();
        long executorMemory = conf.getSizeAsMb("spark.executor.memory", "1g") << 20; // a bare number is MiB there
        Matcher m = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.maxbytes=(\\S+)")
                .matcher(conf.get("spark.executor.extraJavaOptions", ""));
        long executorOffHeap = m.find() ? limit(Pointer.parseBytes(m.group(1), executorMemory)) : executorMemory;
        return new MemoryModel.Given(heap, offHeap, physical, executorMemory, executorOffHeap,
                conf.getInt("spark.executor.cores", 1));
    }

    private static long limit(long javacppBytes) {
        return javacppBytes <= 0 ? Long.MAX_VALUE : javacppBytes;
    }

    /** Resume or start: {@link ResumePolicy} over the newest checkpoint's state.json. */
    private static boolean decide(CheckpointStore checkpoints, Optional<Path> latest, ResumePolicy.Mode mode,
                                  TrainConfig cfg, Manifest manifest) throws IOException {
        JsonNode state = latest.isPresent() && mode == ResumePolicy.Mode.AUTO
                ? checkpoints.readState(latest.get()) : null;
        return ResumePolicy.resume(mode, latest.map(Path::getName).orElse(null), state, cfg, manifest.tokenizerSha256());
    }

    /**
     * Runs (or, as {@code mode} decides, continues) pre-training. {@code spark} may be null when
     * {@code parallel.workers = 1}. Checkpoints record {@code lineage} and, under "config", its effective kiln.train
     * section (resume checks the model shape against it).
     */
    public static Pretrainer.Result run(SparkSession spark, TrainConfig cfg, Lineage lineage, ResumePolicy.Mode mode)
            throws IOException {
        if (cfg.initFrom() != null) {
            // The imported weights arrive as a Continuation (dev.kiln.hf.InitFrom, which the job calls).
            throw new IllegalArgumentException("kiln.train.init-from is set: start the run with its continuation "
                    + "(run(spark, cfg, lineage, configJson, mode, InitFrom.continuation(cfg, hadoop)))");
        }
        return run(spark, cfg, lineage, lineage.configJson(), mode, null);
    }

    /**
     * The same loop continuing a parent's model ({@code from}, see {@link Pretrainer.Continuation}) on
     * {@code cfg.shards()}; {@code from} null is pre-training. {@code cfg.model()} must be the parent's shape.
     * {@code configJson}: what checkpoints record under "config" (a fine-tune adds the shards it trains on).
     */
    public static Pretrainer.Result run(SparkSession spark, TrainConfig cfg, Lineage lineage, String configJson,
                                        ResumePolicy.Mode mode, Pretrainer.Continuation from) throws IOException {
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
        MemoryModel memory = MemoryModel.of(shape, cfg);
        memory.check(given(spark));
        LOG.info("[pretrain] memory estimate: per replica {} GB off-heap{}, {} GB travel per copy each round",
                String.format(Locale.ROOT, "%.2f", memory.replicaBytes() / 1e9),
                cfg.recomputeActivations() ? " (activations recomputed)" : "",
                String.format(Locale.ROOT, "%.2f", memory.travellingBytes() / 1e9));
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
        boolean resume = decide(checkpoints, checkpoints.latest(), mode, cfg, manifest);
        MetricsLog metrics = new MetricsLog(outFs, new Path(output, "metrics.jsonl"));
        ShardBatches.Factory data = ShardBatches.Factory.of(train, cfg.seed());
        if (cfg.parallel().workers() > 1 && spark == null) {
            throw new IllegalArgumentException("kiln.train.parallel.workers = " + cfg.parallel().workers() + " needs a SparkSession");
        }
        try (RoundRunner runner = cfg.parallel().workers() == 1 ? new LocalRounds(data, cfg.engine())
                : from == null ? new SparkAveraging(spark, cfg.engine(), shape, cfg.learningRateSchedule(), data)
                // Executors rebuild the parent's configuration (its frozen layers without weight decay).
                : new SparkAveraging(spark, cfg.engine(), new ReplicaFactory.FromConfiguration(
                        from.initial().getConfiguration().toJson(), cfg.engine(), new RowFormat.NextToken(shape.contextLength()),
                        from.frozen()), data, "finetune")) {
            return new Pretrainer(cfg, shape, runner, validationBatches, checkpoints, metrics, configJson, lineage,
                    manifest.tokenizerSha256(), from).run(resume);
        }
    }
}
