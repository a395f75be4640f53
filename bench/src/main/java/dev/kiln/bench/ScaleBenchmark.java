package dev.kiln.bench;

import dev.kiln.common.config.KilnConfig;
import dev.kiln.model.GptConfig;
import dev.kiln.train.MemoryModel;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.DataPosition;
import dev.kiln.train.data.ShardBatches;
import dev.kiln.train.parallel.LocalRounds;
import dev.kiln.train.parallel.Replica;
import dev.kiln.train.parallel.RoundRunner;
import dev.kiln.train.parallel.RoundStats;
import dev.kiln.train.parallel.SparkAveraging;
import org.apache.commons.io.FileUtils;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Models of the size users train. One configuration per JVM, so the peak resident memory it prints is that
 * configuration's:
 * <pre>
 *   bench/run ScaleBenchmark checkpoint SHAPE [old]      write and read a checkpoint of SHAPE (weights + AdamW moments)
 *                                                        through CheckpointStore, against cp / dd / cat of the same
 *                                                        bytes in the same sitting; "old": also DL4J's compressed
 *                                                        ModelSerializer.writeModel (Kiln's writer before)
 *   bench/run ScaleBenchmark train SHAPE WORKERS [rounds=2] [average-every=20] [batch=1] [recompute]
 *                                                        seconds a step, tokens/s, bytes moved per round, averaging
 *                                                        share (WORKERS > 1: local[WORKERS] in this JVM), then the
 *                                                        final checkpoint's write and read seconds; "recompute":
 *                                                        with activation checkpointing
 * </pre>
 * SHAPE: {@code medium} (vocabulary 8192, context 256, d 512, 8 layers, 8 heads: 33.7 M parameters) or {@code gpt2}
 * (GPT-2 small: vocabulary 32768, context 1024, d 768, 12 layers, 12 heads: 136.2 M parameters untied) or
 * {@code gpt2-tied} (the same with the head tied to the token embedding, the default for new runs: 111.0 M). Random tokens.
 */
public final class ScaleBenchmark {
    public static void main(String[] args) throws Exception {
        String part = args.length > 0 ? args[0] : "checkpoint";
        GptConfig shape = shape(args.length > 1 ? args[1] : "medium");
        java.nio.file.Path work = Files.createTempDirectory(java.nio.file.Path.of(System.getProperty("kiln.bench.dir", "/tmp")), "kiln-scale");
        try {
            if (part.equals("checkpoint")) {
                checkpoint(shape, work, args.length > 2 && args[2].equals("old"));
            } else {
                train(shape, work, Integer.parseInt(args.length > 2 ? args[2] : "1"), args.length > 3 ? Integer.parseInt(args[3]) : 2,
                        args.length > 4 ? Integer.parseInt(args[4]) : 20, args.length > 5 ? Integer.parseInt(args[5]) : 1,
                        args.length > 6 && args[6].equals("recompute"));
            }
        } finally {
            FileUtils.deleteDirectory(work.toFile());
        }
        System.out.printf(Locale.ROOT, "peak resident memory of this JVM: %.2f GB%n", peakRssBytes() / 1e9);
    }

    static GptConfig shape(String name) {
        return switch (name) {
            case "medium" -> new GptConfig(8192, 256, 512, 8, 8, 4);
            case "gpt2" -> new GptConfig(32768, 1024, 768, 12, 12, 4);
            case "gpt2-tied" -> new GptConfig(32768, 1024, 768, 12, 12, 4).withTiedEmbeddings(true);
            default -> throw new IllegalArgumentException("shape must be medium or gpt2, got " + name);
        };
    }

    static Map<String, String> config(GptConfig shape, java.nio.file.Path work, Path shards, int workers, int every, int batch,
                                      boolean recompute) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("kiln.train.shards", shards == null ? "unused" : shards.toString());
        s.put("kiln.train.output", work.resolve("out").toString());
        s.put("kiln.train.model.layers", String.valueOf(shape.layers()));
        s.put("kiln.train.model.d-model", String.valueOf(shape.dModel()));
        s.put("kiln.train.model.heads", String.valueOf(shape.heads()));
        s.put("kiln.train.model.tie-embeddings", String.valueOf(shape.tiedEmbeddings()));
        s.put("kiln.train.recompute-activations", String.valueOf(recompute));
        s.put("kiln.train.batch-size", String.valueOf(batch));
        s.put("kiln.train.steps", "100000");
        s.put("kiln.train.parallel.workers", String.valueOf(workers));
        s.put("kiln.train.parallel.average-every", String.valueOf(every));
        return s;
    }

    static void checkpoint(GptConfig shape, java.nio.file.Path work, boolean old) throws IOException, InterruptedException {
        TrainConfig cfg = TrainConfig.from(KilnConfig.load(null, config(shape, work, null, 1, 20, 1, false)));
        Replica replica = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        INDArray state = replica.model().getUpdater().getStateViewArray();
        state.assign(Nd4j.rand(DataType.FLOAT, state.shape()).muli(1e-3)); // moments as after training: not zeros
        System.out.printf(Locale.ROOT, "shape %s: %,d parameters%n", shape, replica.model().numParams());
        FileSystem fs = FileSystem.getLocal(new Configuration());
        CheckpointStore store = new CheckpointStore(fs, new Path(work.resolve("ck").toUri()), 5);
        Checkpoint c = new Checkpoint(1, replica.model(), DataPosition.START, null, "{}", "bench", 1);
        for (int i = 0; i < 2; i++) {
            long t0 = System.nanoTime();
            Path folder = store.save(new Checkpoint(i + 1, c.model(), c.position(), null, "{}", "bench", 1));
            double write = (System.nanoTime() - t0) / 1e9;
            java.nio.file.Path zip = java.nio.file.Path.of(folder.toUri()).resolve("model.zip");
            long bytes = Files.size(zip);
            t0 = System.nanoTime();
            ComputationGraph back = store.load(folder).model();
            double read = (System.nanoTime() - t0) / 1e9;
            if (!Arrays.equals(back.params().toFloatVector(), replica.model().params().toFloatVector())) {
                throw new IllegalStateException("the checkpoint read back differs");
            }
            back.clear();
            double cp = shell("cp " + zip + " " + work.resolve("copy.zip"));
            double dd = shell("dd if=/dev/zero of=" + work.resolve("zeros.bin") + " bs=4M count=" + (bytes >> 22) + " status=none");
            double cat = shell("cat " + zip + " > /dev/null");
            System.out.printf(Locale.ROOT, "try %d: model.zip %.2f GB: Kiln write %.1f s (%.0f MB/s), read %.1f s (%.0f MB/s); "
                            + "same sitting: cp %.1f s (%.0f MB/s), dd from /dev/zero %.1f s (%.0f MB/s), cat %.1f s (%.0f MB/s)%n",
                    i + 1, bytes / 1e9, write, bytes / 1e6 / write, read, bytes / 1e6 / read, cp, bytes / 1e6 / cp,
                    dd, bytes / 1e6 / dd, cat, bytes / 1e6 / cat);
            Files.delete(work.resolve("copy.zip"));
            Files.delete(work.resolve("zeros.bin"));
        }
        if (old) {
            java.nio.file.Path zip = work.resolve("dl4j.zip");
            long t0 = System.nanoTime();
            ModelSerializer.writeModel(replica.model(), zip.toFile(), true);
            double write = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            ModelSerializer.restoreComputationGraph(zip.toFile(), true).clear();
            double read = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "DL4J ModelSerializer (Kiln before): %.2f GB compressed, write %.1f s, read %.1f s%n",
                    Files.size(zip) / 1e9, write, read);
        }
    }

    static double shell(String command) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("bash", "-c", command).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException(command + " failed");
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    static void train(GptConfig shape, java.nio.file.Path work, int workers, int rounds, int every, int batch, boolean recompute)
            throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        long tokens = (long) workers * batch * every * (rounds + 1) * (shape.contextLength() + 1) + 4L * shape.contextLength();
        Path shards = TrainingBenchmark.randomShards(fs, work.resolve("random"), (int) Math.min(Integer.MAX_VALUE, tokens), 7,
                shape.contextLength());
        TrainConfig cfg = TrainConfig.from(KilnConfig.load(null, config(shape, work, shards, workers, every, batch, recompute)));
        SparkSession spark = workers == 1 ? null : SparkSession.builder().master("local[" + workers + "]")
                .appName("kiln scale bench").config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        Replica global = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        ShardBatches.Factory data = ShardBatches.Factory.of(List.of(shards.suffix("/train-0.arrow")), cfg.seed());
        System.out.printf(Locale.ROOT, "shape %s: %,d parameters; %d worker(s), batch %d each, average-every %d%s%n",
                shape, global.model().numParams(), workers, batch, every, recompute ? ", activations recomputed" : "");
        System.out.print(MemoryModel.of(shape, cfg).describe());
        try (RoundRunner runner = workers == 1 ? new LocalRounds(data, cfg.engine())
                : new SparkAveraging(spark, cfg.engine(), shape, cfg.learningRateSchedule(), data)) {
            double seconds = 0;
            double averaging = 0;
            long trained = 0;
            for (int i = 0; i <= rounds; i++) {
                long t0 = System.nanoTime();
                // A short warm-up round (JIT, ND4J's workspaces learn their sizes), then rounds of average-every steps.
                int steps = i == 0 ? Math.min(2, every) : every;
                RoundStats st = runner.run(global, steps, false);
                double wall = (System.nanoTime() - t0) / 1e9;
                double avg = Math.max(0, wall - st.computeSeconds());
                long moved = runner instanceof SparkAveraging s ? s.lastRoundBytes() : 0;
                System.out.printf(Locale.ROOT, "round %d%s: %.1f s (%.2f s a step), averaging %.1f s, moved %.1f MB, loss %.3f%n",
                        i, i == 0 ? " (warm-up)" : "", wall, wall / steps, avg, moved / 1e6, st.meanLoss());
                if (i > 0) {
                    seconds += wall;
                    averaging += avg;
                    trained += st.tokens();
                }
            }
            System.out.printf(Locale.ROOT, "measured: %.2f s a step, %,.0f tokens/s, averaging %.1f%% of a round%n",
                    seconds / (rounds * every), trained / seconds, 100 * averaging / seconds);
            CheckpointStore store = new CheckpointStore(fs, new Path(work.resolve("ck").toUri()), 1);
            long t0 = System.nanoTime();
            Path folder = store.save(new Checkpoint(global.step(), global.model(), runner.position(), null, "{}", "bench", workers));
            double write = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            store.load(folder).model().clear();
            System.out.printf(Locale.ROOT, "checkpoint: write %.1f s, read %.1f s (%.2f GB)%n", write, (System.nanoTime() - t0) / 1e9,
                    Files.size(java.nio.file.Path.of(folder.toUri()).resolve("model.zip")) / 1e9);
        }
        if (spark != null) {
            spark.stop();
        }
    }

    /** VmHWM of this process (Linux), in bytes. */
    static long peakRssBytes() throws IOException {
        for (String line : Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return -1;
    }
}
