package dev.kiln.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.jobs.cluster.StandaloneCluster;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.data.BatchSource;
import dev.kiln.train.data.ShardBatches;
import dev.kiln.train.parallel.LocalRounds;
import dev.kiln.train.parallel.Replica;
import dev.kiln.train.parallel.RoundStats;
import dev.kiln.train.parallel.SparkAveraging;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Pre-training throughput, in one run: (a) one JVM alone, (b) parameter averaging over two Spark tasks on
 * local[2], (c) the same on a standalone cluster with two one-core workers (separate executor JVMs); scaling
 * efficiency, the share of time spent averaging, and MFU against ND4J's matrix-product ceiling measured here.
 * Then plain averaging vs DiLoCo's outer Nesterov step on real text (byte-level SOTU shards), same tokens.
 * The peer, PyTorch eager on the CPU with the same model and optimizer ({@code bench/pytorch/gpt_step.py}), runs
 * beside this JVM in the same sitting, on 1 and 2 threads, when a Python with torch is available; otherwise the
 * last figure recorded in the README is printed and marked as not measured now.
 *
 * <pre>bench/run TrainingBenchmark [measuredRounds=3] [averageEvery=20] [parts=abco] [model=S|M]</pre>
 * parts: a, b, c as above, d for dl4j-spark's ParameterAveragingTrainingMaster on local[2] (same model, batch,
 * averaging period), o for the outer-optimizer comparison (scaling needs a, and b or c).
 */
public final class TrainingBenchmark {
    // Configurations (random tokens): S = vocabulary 8192, context 128, d 128, 2 layers, 4 heads, batch 16;
    // M = context 256, d 256, 4 layers, batch 8.
    static final int VOCAB = 8192;
    // PyTorch 2.13 CPU eager, model S, 1 and 2 threads, as recorded in the README (used only when torch is absent).
    static final double[] RECORDED_PYTORCH_S = {7_120, 13_260};

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int averageEvery = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String parts = args.length > 2 ? args[2] : "abco";
        java.nio.file.Path work = Files.createTempDirectory("kiln-training-bench");
        FileSystem fs = FileSystem.getLocal(new Configuration());

        double ceiling1 = matmulCeiling(1);
        double ceiling2 = matmulCeiling(2);
        System.out.printf(Locale.ROOT, "ND4J float32 matmul ceiling: %.1f GFLOP/s (1 thread), %.1f GFLOP/s (2 threads)%n", ceiling1, ceiling2);

        String model = args.length > 3 ? args[3] : "S";
        boolean m = model.equals("M");
        int context = m ? 256 : 128, dModel = m ? 256 : 128, layers = m ? 4 : 2, batch = m ? 8 : 16;
        double[] peer = pytorchPeer(model);

        Path shards = randomShards(fs, work.resolve("random"), 3_000_000, 7, context);
        Map<String, String> s = new LinkedHashMap<>();
        s.put("kiln.train.shards", shards.toString());
        s.put("kiln.train.model.layers", String.valueOf(layers));
        s.put("kiln.train.model.d-model", String.valueOf(dModel));
        s.put("kiln.train.model.heads", "4");
        s.put("kiln.train.batch-size", String.valueOf(batch));
        s.put("kiln.train.steps", "100000");
        s.put("kiln.train.parallel.average-every", String.valueOf(averageEvery));
        GptConfig shape = new GptConfig(VOCAB, context, dModel, layers, 4, 4);
        double flops = shape.trainingFlopsPerToken();
        System.out.printf(Locale.ROOT, "model %s: %,d matmul parameters, %.2f MFLOP per trained token%n",
                model, shape.matmulParameters(), flops / 1e6);

        // (a) one JVM, one ND4J thread
        TrainConfig one = TrainConfig.from(KilnConfig.load(null, s));
        double a = Double.NaN;
        if (parts.contains("a")) {
            a = single(one, shape, shards, averageEvery, rounds);
            System.out.printf(Locale.ROOT, "(a) one JVM:            %,8.0f tokens/s  MFU %.1f%% of 1 thread%n", a, 100 * a * flops / (ceiling1 * 1e9));
        }

        Map<String, String> s2 = new LinkedHashMap<>(s);
        s2.put("kiln.train.parallel.workers", "2");
        TrainConfig two = TrainConfig.from(KilnConfig.load(null, s2));

        // (b) local[2]: two tasks in this JVM
        double[] b = {0, 0, 0};
        if (parts.contains("b")) {
        SparkSession local = SparkSession.builder().master("local[2]").appName("kiln training bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        b = averaged(local, two, shape, shards, rounds);
        report("(b) averaging local[2]: ", b, a, flops, ceiling2);
        if (parts.contains("d")) {
            double[] d = dl4jSpark(local, two, shape, shards, rounds);
            report("(d) dl4j-spark PATM:    ", d, a, flops, ceiling2);
        }
        local.stop();
        }

        // (c) standalone cluster, two workers with one core each: executor JVMs launched by the workers
        double[] c = null;
        java.nio.file.Path sparkHome = java.nio.file.Path.of("pipeline-jobs/spark-home/target").toAbsolutePath();
        if (!parts.contains("c")) {
            System.out.println("(c) not requested");
        } else if (Files.isDirectory(sparkHome.resolve("jars"))) {
            java.nio.file.Path dir = work.resolve("cluster");
            StandaloneCluster.State st = StandaloneCluster.start(dir, sparkHome, 2, 1, "4g", Duration.ofSeconds(120));
            try {
                SparkSession cluster = SparkSession.builder().master(st.masterUrl()).appName("kiln training bench (standalone)")
                        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                        .config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.executor.memory", "3g").config("spark.executor.cores", "1")
                        .config("spark.executor.extraClassPath", executorClassPath(sparkHome.resolve("jars")))
                        .config("spark.executorEnv.OMP_NUM_THREADS", "1")
                        .config("spark.executorEnv.OPENBLAS_CORETYPE", System.getenv().getOrDefault("OPENBLAS_CORETYPE", "Haswell"))
                        .getOrCreate();
                c = averaged(cluster, two, shape, shards, rounds);
                cluster.stop();
            } finally {
                StandaloneCluster.stop(dir, Duration.ofSeconds(20));
            }
            report("(c) standalone 2x1 core:", c, a, flops, ceiling2);
        } else {
            System.out.println("(c) skipped: no embedded Spark home at " + sparkHome + " (mvn -DskipTests package first)");
        }

        // Plain averaging vs DiLoCo's outer Nesterov step, on real text, same tokens and steps.
        System.out.println();
        if (parts.contains("o")) {
        Path sotu = sotuShards(fs, work.resolve("sotu"), 64);
        SparkSession again = SparkSession.builder().master("local[2]").appName("kiln training bench (outer)")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        for (String outer : List.of("average", "nesterov")) {
            Map<String, String> o = new LinkedHashMap<>();
            o.put("kiln.train.shards", sotu.toString());
            o.put("kiln.train.output", work.resolve("outer-" + outer).toString());
            o.put("kiln.train.model.layers", "2");
            o.put("kiln.train.model.d-model", "64");
            o.put("kiln.train.model.heads", "4");
            o.put("kiln.train.batch-size", "8");
            o.put("kiln.train.steps", "120");
            o.put("kiln.train.optimizer.learning-rate", "3e-3");
            o.put("kiln.train.optimizer.min-learning-rate", "3e-4");
            o.put("kiln.train.optimizer.warmup-steps", "10");
            o.put("kiln.train.log-every", "40");
            o.put("kiln.train.validation.every", "120");
            o.put("kiln.train.checkpoint.every", "0");
            o.put("kiln.train.parallel.workers", "2");
            o.put("kiln.train.parallel.average-every", "20");
            o.put("kiln.train.parallel.outer-optimizer", outer);
            var cfg = KilnConfig.load(null, o);
            Pretrainer.Result r = Pretraining.run(again, TrainConfig.from(cfg), Lineage.of("pretrain", cfg, "kiln.train", again.version()), false);
            System.out.printf(Locale.ROOT, "outer %-8s (2 workers, every 20 steps, 120 steps, SOTU bytes): validation loss %.4f, %,.0f tokens/s, averaging %.1f%%%n",
                    outer, r.lastValidationLoss(), r.tokensPerSecond(), 100 * r.averagingShare());
        }
        again.stop();
        }
        double two2 = Math.max(b[0], c == null ? 0 : c[0]);
        System.out.printf(Locale.ROOT, "%nPeer: PyTorch eager, model %s, %s: %,.0f tokens/s on 1 thread, %,.0f on 2 threads%n", model,
                peer[2] > 0 ? "measured now (torch " + torchVersion + ")" : "NOT measured now (no torch here): the README's recorded figures",
                peer[0], peer[1]);
        System.out.printf(Locale.ROOT, "Kiln / PyTorch per core: one JVM vs 1 thread %.2f, best 2-worker run vs 2 threads %.2f%n",
                Double.isNaN(a) ? Double.NaN : a / peer[0], two2 / peer[1]);
    }

    static String torchVersion = "?";

    /**
     * PyTorch's tokens/s on 1 and 2 threads ({1-thread, 2-thread, 1 if measured now else 0}), from
     * {@code bench/pytorch/gpt_step.py} run beside this JVM, or the recorded figures for model S when torch is absent.
     */
    static double[] pytorchPeer(String model) throws IOException, InterruptedException {
        double[] out = new double[3];
        for (int threads = 1; threads <= 2; threads++) {
            ProcessBuilder pb = new ProcessBuilder(System.getenv().getOrDefault("KILN_PYTHON", "python3"),
                    "bench/pytorch/gpt_step.py", "--model", model, "--threads", String.valueOf(threads), "--steps", "20");
            pb.redirectErrorStream(true);
            String json;
            try {
                Process p = pb.start();
                json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor() != 0) {
                    System.out.println("PyTorch peer did not run: " + json.lines().reduce((x, y) -> y).orElse(""));
                    json = null;
                }
            } catch (IOException e) {
                System.out.println("PyTorch peer did not run: " + e.getMessage());
                json = null;
            }
            if (json == null) {
                if (!model.equals("S")) {
                    return new double[]{Double.NaN, Double.NaN, 0};
                }
                return new double[]{RECORDED_PYTORCH_S[0], RECORDED_PYTORCH_S[1], 0};
            }
            var node = new ObjectMapper().readTree(json.lines().reduce((x, y) -> y).orElseThrow());
            out[threads - 1] = node.get("tokens_per_s").asDouble();
            torchVersion = node.get("torch").asText();
            System.out.printf(Locale.ROOT, "PyTorch eager, model %s, %d thread(s): %,.0f tokens/s (%.1f ms/step); torch's float32 matmul "
                            + "ceiling %.1f GFLOP/s%n", model, threads, out[threads - 1], node.get("ms_per_step").asDouble(),
                    node.path("matmul_gflops").asDouble(Double.NaN));
        }
        out[2] = 1;
        return out;
    }

    /**
     * This JVM's classpath without the jars the executors already have from the Spark home: a second copy of Spark
     * or Scala on the executor's class path breaks task deserialisation (SerializedLambda cannot be assigned to
     * scala.Function3).
     */
    static String executorClassPath(java.nio.file.Path sparkJars) throws IOException {
        Set<String> provided = new HashSet<>();
        try (Stream<java.nio.file.Path> st = Files.list(sparkJars)) {
            st.forEach(p -> provided.add(p.getFileName().toString()));
        }
        List<String> keep = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = java.nio.file.Path.of(e).getFileName().toString();
            if (!provided.contains(name) && !name.startsWith("scala-") && !name.startsWith("spark-")) {
                keep.add(java.nio.file.Path.of(e).toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, keep);
    }

    /** (a): the replica trains in this JVM; the first round is warm-up (JIT, workspaces), then {@code rounds} are timed. */
    static double single(TrainConfig cfg, GptConfig shape, Path shards, int roundSteps, int rounds) {
        Replica r = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        try (LocalRounds runner = new LocalRounds(ShardBatches.Factory.of(List.of(shards.suffix("/train-0.arrow")), cfg.seed()), cfg.engine())) {
            runner.run(r, 5);
            long tokens = 0;
            double seconds = 0;
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                RoundStats st = runner.run(r, roundSteps);
                seconds += (System.nanoTime() - t0) / 1e9;
                tokens += st.tokens();
            }
            return tokens / seconds;
        }
    }

    /**
     * (d) dl4j-spark's ParameterAveragingTrainingMaster on the same model, workers, batch per worker and averaging
     * period: {tokens/s, NaN, seconds per round}. It has no outer optimizer and rebuilds the network every round.
     */
    static double[] dl4jSpark(SparkSession spark, TrainConfig cfg, GptConfig shape, Path shards, int rounds) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int workers = cfg.parallel().workers();
        int every = cfg.parallel().averageEvery();
        List<DataSet> batches = new ArrayList<>();
        try (BatchSource src = ShardBatches.Factory.of(List.of(shards.suffix("/train-0.arrow")), cfg.seed())
                .open(0, 1, cfg.batchSize())) {
            for (int i = 0; i < workers * every * (rounds + 1); i++) {
                batches.add(GptModel.dataSet(src.next(), DataType.FLOAT));
            }
        }
        ParameterAveragingTrainingMaster tm =
                new ParameterAveragingTrainingMaster.Builder(cfg.batchSize())
                        .batchSizePerWorker(cfg.batchSize()).averagingFrequency(every).workerPrefetchNumBatches(2)
                        .rddTrainingApproach(RDDTrainingApproach.Direct).build();
        SparkComputationGraph net = new SparkComputationGraph(
                sc, Replica.create(shape, cfg.engine(), cfg.learningRateSchedule()).model(), tm);
        int perRound = workers * every;
        net.fit(sc.parallelize(batches.subList(0, perRound), workers)); // warm-up round
        long t0 = System.nanoTime();
        net.fit(sc.parallelize(batches.subList(perRound, batches.size()), workers));
        double seconds = (System.nanoTime() - t0) / 1e9;
        long tokens = (long) (batches.size() - perRound) * cfg.batchSize() * shape.contextLength();
        return new double[]{tokens / seconds, Double.NaN, seconds / rounds};
    }

    /** (b)/(c): {tokens/s, averaging share, mean round seconds}, after one warm-up round. */
    static double[] averaged(SparkSession spark, TrainConfig cfg, GptConfig shape, Path shards, int rounds) {
        Replica global = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        try (SparkAveraging runner = new SparkAveraging(spark, cfg.engine(), shape, cfg.learningRateSchedule(),
                ShardBatches.Factory.of(List.of(shards.suffix("/train-0.arrow")), cfg.seed()))) {
            runner.run(global, cfg.parallel().averageEvery());
            long tokens = 0;
            double seconds = 0;
            double averaging = 0;
            for (int i = 0; i < rounds; i++) {
                RoundStats st = runner.run(global, cfg.parallel().averageEvery());
                seconds += runner.lastRoundSeconds();
                averaging += runner.lastAveragingSeconds();
                tokens += st.tokens();
            }
            return new double[]{tokens / seconds, averaging / seconds, seconds / rounds};
        }
    }

    static void report(String label, double[] r, double single, double flops, double ceiling) {
        System.out.printf(Locale.ROOT, "%s %,8.0f tokens/s  scaling efficiency %.2f  averaging %.1f%% of a %.1f s round  MFU %.1f%% of 2 threads%n",
                label, r[0], r[0] / (2 * single), 100 * r[1], r[2], 100 * r[0] * flops / (ceiling * 1e9));
    }

    /** Best of a few float32 matrix products at 1024^2 and 2048^2 with {@code threads} threads, in GFLOP/s. */
    static double matmulCeiling(int threads) {
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        double best = 0;
        for (int n : new int[]{1024, 2048}) {
            INDArray x = Nd4j.rand(DataType.FLOAT, n, n);
            INDArray y = Nd4j.rand(DataType.FLOAT, n, n);
            INDArray z = Nd4j.create(DataType.FLOAT, n, n);
            x.mmuli(y, z);
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                x.mmuli(y, z);
                best = Math.max(best, 2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9);
            }
        }
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        return best;
    }

    static Path randomShards(FileSystem fs, java.nio.file.Path dir, int tokens, long seed, int context) throws IOException {
        Path out = new Path(dir.toUri());
        Random r = new Random(seed);
        ShardSchema.Header h = new ShardSchema.Header(context, VOCAB, "random", ShardSchema.TRAIN);
        try (ShardWriter w = ShardWriter.create(fs, new Path(out, "train-0.arrow"), h)) {
            RowPacker p = new RowPacker(context, w::write);
            for (int i = 0; i < tokens; i++) {
                p.add(r.nextInt(VOCAB));
            }
            w.commit();
        }
        return out;
    }

    /** Byte-level SOTU shards (ids 0-255 bytes, 256 ends a speech); every 10th speech is validation. */
    static Path sotuShards(FileSystem fs, java.nio.file.Path dir, int context) throws IOException {
        Path out = new Path(dir.toUri());
        List<java.nio.file.Path> files;
        try (Stream<java.nio.file.Path> st = Files.list(SampleCorpora.sotu())) {
            files = st.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        List<ShardInfo> infos = new ArrayList<>();
        for (String split : List.of(ShardSchema.TRAIN, ShardSchema.VALIDATION)) {
            String name = split + "-0.arrow";
            try (ShardWriter w = ShardWriter.create(fs, new Path(out, name), new ShardSchema.Header(context, 257, "byte-level", split), 64)) {
                RowPacker p = new RowPacker(context, w::write);
                int docs = 0;
                for (int i = 0; i < files.size(); i++) {
                    if ((i % 10 == 5) == split.equals(ShardSchema.VALIDATION)) {
                        for (byte b : Files.readString(files.get(i)).getBytes(StandardCharsets.UTF_8)) {
                            p.add(b & 0xff);
                        }
                        p.add(256);
                        docs++;
                    }
                }
                ShardWriter.Committed c = w.commit();
                infos.add(new ShardInfo(name, split, c.rows(), p.coveredTokens(), p.droppedTokens(), docs, c.bytes(), c.sha256()));
            }
        }
        new Manifest(1, "byte-level", "byte-level", 257, context, Map.of("<|endoftext|>", 256), null, List.of(), infos).write(fs, out);
        return out;
    }
}
