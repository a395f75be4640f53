package dev.kiln.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.log.Progress;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.generate.CachedModel;
import dev.kiln.generate.Generation;
import dev.kiln.generate.GenerationCheckpoint;
import dev.kiln.generate.GenerationConfig;
import dev.kiln.generate.LanguageModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code kiln generate} throughput, new tokens per second, against Hugging Face transformers'
 * {@code GPT2LMHeadModel.generate()} in the same sitting. Kiln runs the same prompts and seed on {@code local[1]} (one
 * task at a time: one JVM's core) and on {@code local[2]} (two tasks, the model cached once per executor JVM), with
 * top-k 40 at temperature 0.8 and up to a fixed number of new tokens; every sequence's random stream depends only on
 * (seed, prompt, sequence), so the two runs must write the same text (checked here). The peer
 * ({@code bench/pytorch/generate_peer.py}) runs the same shape, the same prompts encoded with the checkpoint's
 * tokenizer.json, the same sampling with exactly that many new tokens, batches of 8, on 1 and 2 threads; the ratios
 * are Kiln {@code local[1]} / peer 1 thread and Kiln {@code local[2]} / peer 2 threads. A peer that cannot run is
 * reported as not measured. The peer's Python: {@code KILN_PYTHON}, else {@code bench/pytorch/venv.sh} (which creates
 * a virtual environment on first use).
 *
 * <pre>bench/run GenerateBenchmark [pretrain=.kiln/demo/pretrain] [prompts=32] [new-tokens=48]</pre>
 * The prompts are conf/demo-prompts.txt repeated. Without a checkpoint at {@code pretrain} (no {@code bin/kiln demo}
 * run), the benchmark builds a demo-shaped model once (vocabulary 2,048, context 128, d 128, 2 layers, 4 heads,
 * seeded random weights through {@link GptModel}, a 2,048-token BPE tokenizer trained on the SOTU sample) under
 * {@code .kiln/bench/generate-model}: generation's cost does not depend on the weights' values.
 */
public final class GenerateBenchmark {
    static final int BATCH = 8;
    /** The decoding loop's new tokens per CPU-second (set by {@link #breakdown}). */
    static double decodeCpuRate = Double.NaN;
    /** The peer's new tokens per CPU-second on 1 thread (set by {@link #peer}). */
    static double peerCpuRate = Double.NaN;

    public static void main(String[] args) throws Exception {
        String pretrain = new File(args.length > 0 ? args[0] : ".kiln/demo/pretrain").getAbsolutePath();
        int prompts = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int newTokens = args.length > 2 ? Integer.parseInt(args[2]) : 48;
        if (!new File(pretrain).exists()) {
            System.out.println("no checkpoint at " + pretrain + ": using a demo-shaped model with seeded random weights");
            pretrain = demoShapedRun(Path.of(".kiln/bench/generate-model").toAbsolutePath()).toString();
        }
        List<String> base = Files.readAllLines(new File("conf/demo-prompts.txt").toPath(), StandardCharsets.UTF_8)
                .stream().filter(l -> !l.isBlank()).toList();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            lines.add(base.get(i % base.size()));
        }
        Path dir = Files.createTempDirectory("kiln-generate-bench");
        Path promptFile = Files.write(dir.resolve("prompts.txt"), lines, StandardCharsets.UTF_8);

        Map<String, Generation.Result> results = new LinkedHashMap<>();
        for (String master : List.of("local[1]", "local[2]")) {
            results.put(master, kiln(master, pretrain, promptFile, dir, newTokens));
        }
        GenerationCheckpoint ckpt = GenerationCheckpoint.open(pretrain, null, "<|endoftext|>", GenerationConfig.SECTION,
                new Configuration());
        GptConfig shape = GptModel.shapeOf(GenerationCheckpoint.restore(ckpt.modelZip()));
        breakdown(ckpt, config(pretrain, promptFile, dir.resolve("driver.jsonl"), newTokens), lines);
        String tokenizer = new org.apache.hadoop.fs.Path(ckpt.tokenizerPath()).toUri().getPath();
        double[] peer = {peer(1, tokenizer, promptFile, prompts, newTokens, shape),
                peer(2, tokenizer, promptFile, prompts, newTokens, shape)};
        report(results, peer, shape, newTokens);
    }

    /** The best of 3 runs after a warm-up run (JIT, native libraries, the executors' model cache). */
    static Generation.Result kiln(String master, String pretrain, Path promptFile, Path dir, int newTokens) throws IOException {
        GenerationConfig cfg = config(pretrain, promptFile, dir.resolve(master.replaceAll("\\W", "") + ".jsonl"), newTokens);
        SparkSession spark = SparkSession.builder().master(master).appName("kiln generate bench " + master)
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.executorEnv.OMP_NUM_THREADS", "1")
                .getOrCreate();
        try {
            Generation.run(spark, cfg);
            Generation.Result best = null;
            for (int i = 0; i < 3; i++) {
                Generation.Result r = Generation.run(spark, cfg);
                best = best == null || r.tokensPerSecond() > best.tokensPerSecond() ? r : best;
            }
            return best;
        } finally {
            spark.stop();
        }
    }

    static GenerationConfig config(String pretrain, Path promptFile, Path output, int newTokens) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.generate.checkpoint", pretrain);
        o.put("kiln.generate.prompts", promptFile.toString());
        o.put("kiln.generate.output", output.toString());
        o.put("kiln.generate.max-new-tokens", Integer.toString(newTokens));
        o.put("kiln.generate.do-sample", "true");
        o.put("kiln.generate.temperature", "0.8");
        o.put("kiln.generate.top-k", "40");
        o.put("kiln.generate.batch-size", Integer.toString(BATCH));
        return GenerationConfig.from(KilnConfig.load(null, o));
    }

    /**
     * Where a job's time goes, in this JVM on one thread: restoring the model from the checkpoint's bytes, and the
     * decoding loop alone (prompts encoded, tokens generated and decoded to text; no Spark), best of 3 after a warm-up.
     */
    static void breakdown(GenerationCheckpoint ckpt, GenerationConfig cfg, List<String> lines) throws IOException {
        long t0 = System.nanoTime();
        LanguageModel model = CachedModel.of(GenerationCheckpoint.restore(ckpt.modelZip()));
        double restore = (System.nanoTime() - t0) / 1e9;
        List<Generation.Prompt> prompts = new ArrayList<>();
        for (String l : lines) {
            prompts.add(new Generation.Prompt(prompts.size(), l));
        }
        var threads = ManagementFactory.getThreadMXBean();
        double best = Double.MAX_VALUE, bestCpu = Double.MAX_VALUE;
        long tokens = 0;
        for (int i = 0; i < 4; i++) {
            long t = System.nanoTime(), cpu = threads.getCurrentThreadCpuTime();
            tokens = Generation.complete(model, ckpt.tokenizer(), cfg, ckpt.endOfText(), prompts,
                    new Progress("generate tokens", -1, -1)).stream().mapToLong(Generation.Completion::tokens).sum();
            if (i > 0) {
                best = Math.min(best, (System.nanoTime() - t) / 1e9);
                bestCpu = Math.min(bestCpu, (threads.getCurrentThreadCpuTime() - cpu) / 1e9);
            }
        }
        decodeCpuRate = tokens / bestCpu;
        System.out.printf(Locale.ROOT, "in this JVM, one thread: restoring the model %.2f s; the decoding loop alone %,d tokens "
                + "in %.2f s (%.2f CPU-s): %,.1f tokens/s, %,.1f tokens per CPU-second%n", restore, tokens, best, bestCpu,
                tokens / best, decodeCpuRate);
    }

    static void report(Map<String, Generation.Result> results, double[] peer, GptConfig shape, int newTokens) {
        System.out.println();
        System.out.printf(Locale.ROOT, "model: vocabulary %d, context %d, d %d, %d layers, %d heads; top-k 40, temperature 0.8, "
                + "up to %d new tokens, batches of %d%n", shape.vocabSize(), shape.contextLength(), shape.dModel(),
                shape.layers(), shape.heads(), newTokens, BATCH);
        for (var e : results.entrySet()) {
            Generation.Result r = e.getValue();
            System.out.printf(Locale.ROOT, "kiln generate on %s: %d prompts, %,d new tokens in %.2f s: %,.1f tokens/s%n",
                    e.getKey(), r.prompts(), r.tokens(), r.seconds(), r.tokensPerSecond());
        }
        Generation.Result one = results.get("local[1]");
        Generation.Result two = results.get("local[2]");
        for (int t = 1; t <= 2; t++) {
            Generation.Result k = t == 1 ? one : two;
            System.out.println(Double.isNaN(peer[t - 1])
                    ? String.format(Locale.ROOT, "transformers generate(), %d thread(s): not measured", t)
                    : String.format(Locale.ROOT, "transformers generate(), %d thread(s): %,.1f tokens/s; Kiln %s / transformers = %.2fx",
                    t, peer[t - 1], t == 1 ? "local[1]" : "local[2]", k.tokensPerSecond() / peer[t - 1]));
        }
        System.out.printf(Locale.ROOT, "per CPU-second, one thread (robust to a busy machine): Kiln's decoding loop / "
                + "transformers = %.2fx%n", decodeCpuRate / peerCpuRate);
        Comparator<Generation.Completion> order = Comparator.comparingLong(Generation.Completion::promptIndex)
                .thenComparingInt(Generation.Completion::sequenceIndex);
        List<String> a = one.completions().stream().sorted(order).map(Generation.Completion::text).toList();
        List<String> b = two.completions().stream().sorted(order).map(Generation.Completion::text).toList();
        System.out.printf(Locale.ROOT, "scaling local[2] / local[1] = %.2fx; same text on both: %s%n",
                two.tokensPerSecond() / one.tokensPerSecond(), a.equals(b));
        if (!a.equals(b)) {
            throw new IllegalStateException("local[1] and local[2] generated different text from the same seed");
        }
    }

    /** transformers' new tokens/s on {@code threads} threads, or NaN (said why) when the peer cannot run. */
    static double peer(int threads, String tokenizer, Path prompts, int count, int newTokens, GptConfig shape) {
        try {
            String python = System.getenv("KILN_PYTHON");
            if (python == null) {
                python = run(List.of("bench/pytorch/venv.sh")).strip();
            }
            String out = run(List.of(python, "bench/pytorch/generate_peer.py", "--tokenizer", tokenizer, "--prompts",
                    prompts.toString(), "--threads", Integer.toString(threads), "--count", Integer.toString(count),
                    "--new-tokens", Integer.toString(newTokens), "--batch", Integer.toString(BATCH),
                    "--context", Integer.toString(shape.contextLength()), "--d", Integer.toString(shape.dModel()),
                    "--layers", Integer.toString(shape.layers()), "--heads", Integer.toString(shape.heads())));
            JsonNode n = new ObjectMapper().readTree(out.lines().reduce((x, y) -> y).orElseThrow());
            System.out.printf(Locale.ROOT, "peer: torch %s, transformers %s, %d thread(s): %,d new tokens in %.2f s (best of 3); "
                            + "%,.1f tokens per CPU-second%n", n.get("torch").asText(), n.get("transformers").asText(), threads,
                    n.get("tokens").asLong(), n.get("seconds").asDouble(), n.get("tokens_per_cpu_s").asDouble());
            if (threads == 1) {
                peerCpuRate = n.get("tokens_per_cpu_s").asDouble();
            }
            return n.get("tokens_per_s").asDouble();
        } catch (IOException | RuntimeException e) {
            System.out.println("transformers peer did not run (" + threads + " thread(s)): " + e.getMessage());
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    /** A command's stdout; its stderr goes to this process's; a non-zero exit is an IOException with its last line. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + p.exitValue());
        }
        return out;
    }

    /**
     * A training-run layout ({@code shards/} with tokenizer.json and manifest.json, {@code run/checkpoints/step-0}) of
     * the demo's shape with seeded random weights, built once under {@code dir}; returns the run folder.
     */
    static Path demoShapedRun(Path dir) throws IOException {
        Path run = dir.resolve("run");
        if (Files.exists(run.resolve("checkpoints"))) {
            return run;
        }
        String eot = "<|endoftext|>";
        Map<String, Long> counts = new HashMap<>();
        try (Stream<Path> s = Files.list(SampleCorpora.sotu())) {
            for (Path f : s.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                String text = Files.readString(f);
                for (int i = 0, j; i < text.length(); i = j) {
                    j = PreTokenizer.GPT4.end(text, i, text.length());
                    counts.merge(text.substring(i, j), 1L, Long::sum);
                }
            }
        }
        BpeTokenizer tokenizer = BpeTrainer.train(counts, PreTokenizer.GPT4, 2048, List.of(eot), 2, null);
        String json = TokenizerJson.write(tokenizer);
        String sha = FileHashes.sha256(json);
        FileSystem fs = FileSystem.getLocal(new Configuration());
        org.apache.hadoop.fs.Path shards = new org.apache.hadoop.fs.Path(dir.resolve("shards").toUri());
        AtomicOutput.writeString(fs, new org.apache.hadoop.fs.Path(shards, "tokenizer.json"), json);
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha, 2048, 128,
                Map.of(eot, tokenizer.specialTokenId(eot)), null, List.of(), List.of()).write(fs, shards);
        var model = GptModel.build(new GptConfig(2048, 128, 128, 2, 4, 4), new NoOp(), 0, 42, DataType.FLOAT);
        new CheckpointStore(fs, new org.apache.hadoop.fs.Path(run.resolve("checkpoints").toUri()), 1)
                .save(new Checkpoint(0, model, DataPosition.START, null, "{\"shards\":\"" + shards + "\"}", sha, 1));
        return run;
    }
}
