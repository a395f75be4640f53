package dev.kiln.bench;

import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.evaluate.Evaluate;
import dev.kiln.evaluate.EvaluateConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.shards.ShardSchema;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scoring throughput of {@code kiln evaluate} on {@code local[2]} (every validation token scored by the model and
 * the n-gram baselines, results merged on the driver) against the training graph's forward pass alone in this JVM on
 * one thread, over the same validation rows: the ratio shows what the distributed job adds or gains.
 *
 * <pre>bench/run EvaluateBenchmark [tokenized=.kiln/demo/tokenized] [pretrain=.kiln/demo/pretrain]</pre>
 * Run {@code bin/kiln demo} first (it leaves both folders under .kiln/demo).
 */
public final class EvaluateBenchmark {
    public static void main(String[] args) throws Exception {
        String tokenized = new File(args.length > 0 ? args[0] : ".kiln/demo/tokenized").getAbsolutePath();
        String pretrain = new File(args.length > 1 ? args[1] : ".kiln/demo/pretrain").getAbsolutePath();
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        FileSystem fs = FileSystem.getLocal(new Configuration());

        // (1) forward pass alone, one JVM: the validation rows in batches of 16 (the evaluate default)
        Path checkpoint = new CheckpointStore(fs, new Path(pretrain, "checkpoints"), Integer.MAX_VALUE).latest()
                .orElseThrow(() -> new IllegalArgumentException("no checkpoint under " + pretrain + ": run bin/kiln demo first"));
        ComputationGraph model = new CheckpointStore(fs, new Path(pretrain, "checkpoints"), Integer.MAX_VALUE).load(checkpoint).model();
        Manifest manifest = Manifest.read(fs, new Path(tokenized));
        List<int[]> rows = new ArrayList<>();
        for (ShardInfo s : manifest.shards()) {
            if (s.split().equals(ShardSchema.VALIDATION)) {
                try (ShardReader r = ShardReader.open(fs, new Path(tokenized, s.path()))) {
                    r.forEach(row -> rows.add(row.clone()));
                }
            }
        }
        int batch = 16;
        double best = 0;
        for (int round = 0; round < 3; round++) {
            long start = System.nanoTime();
            long tokens = 0;
            for (int i = 0; i + batch <= rows.size(); i += batch) {
                int[][] b = rows.subList(i, i + batch).toArray(new int[0][]);
                GptModel.probabilities(model, b);
                tokens += (long) batch * manifest.contextLength();
            }
            best = Math.max(best, tokens / ((System.nanoTime() - start) / 1e9));
        }
        System.out.printf(Locale.ROOT, "(1) forward pass, one JVM, 1 thread: %,.0f tokens/s (best of 3 passes over %d validation rows)%n",
                best, rows.size());

        // (2) kiln evaluate on local[2], generation off, the model and the three n-gram baselines
        java.nio.file.Path out = Files.createTempDirectory("kiln-evaluate-bench");
        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.evaluate.checkpoints", "[\"" + pretrain + "\"]");
        o.put("kiln.evaluate.shards", "[\"" + tokenized + "\"]");
        o.put("kiln.evaluate.output", out.toString());
        o.put("kiln.evaluate.generation.from-validation", "0");
        var config = KilnConfig.load(null, o);
        SparkSession spark = SparkSession.builder().master("local[2]").appName("kiln evaluate bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.executorEnv.OMP_NUM_THREADS", "1").getOrCreate();
        double evaluated = 0;
        double modelOnly = 0;
        // Rounds 1-2 as a user runs it; round 3 with the baselines off, to show what the n-gram scoring costs.
        for (int round = 0; round < 3; round++) {
            o.put("kiln.evaluate.run-name", "bench-" + round);
            if (round == 2) {
                o.put("kiln.evaluate.baselines.models", "[]");
            }
            config = KilnConfig.load(null, o);
            Evaluate.Outcome r = Evaluate.run(spark, EvaluateConfig.from(config),
                    Lineage.of("evaluate", config, EvaluateConfig.SECTION, spark.version()));
            long scored = r.result().perShardSet().get(0).get(0).tokens();
            if (round < 2) {
                evaluated = Math.max(evaluated, scored / r.result().scoringSeconds());
            } else {
                modelOnly = scored / r.result().scoringSeconds();
            }
            System.out.printf(Locale.ROOT, "(2) kiln evaluate, local[2], round %d%s: %,d tokens in %.1f s, %d chunks, %d score tasks: %,.0f tokens/s%n",
                    round + 1, round == 2 ? " (baselines off)" : "", scored, r.result().scoringSeconds(), r.result().tasks(),
                    r.result().scoreTasks(), scored / r.result().scoringSeconds());
        }
        System.out.printf(Locale.ROOT, "kiln evaluate on local[2], the checkpoint alone (no baselines) / forward pass in one JVM = %.2fx%n",
                modelOnly / best);
        spark.stop();
        // (3) the same job on local[1]: its ratio to (1) is the job's cost per core, (2) / (3) its scaling.
        o.remove("kiln.evaluate.baselines.models");
        o.put("kiln.evaluate.run-name", "bench-local1");
        config = KilnConfig.load(null, o);
        SparkSession one = SparkSession.builder().master("local[1]").appName("kiln evaluate bench, local[1]")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        Evaluate.Outcome single = Evaluate.run(one, EvaluateConfig.from(config),
                Lineage.of("evaluate", config, EvaluateConfig.SECTION, one.version()));
        one.stop();
        double local1 = single.result().perShardSet().get(0).get(0).tokens() / single.result().scoringSeconds();
        System.out.printf(Locale.ROOT, "(3) kiln evaluate, local[1]: %,.0f tokens/s = %.2fx the forward pass alone; local[2] / local[1] = %.2fx%n",
                local1, local1 / best, evaluated / local1);
        System.out.printf(Locale.ROOT, "kiln evaluate on local[2] / forward pass in one JVM = %.2fx (aim: >= 1.8x on 2 cores)%n",
                evaluated / best);
    }
}
