package dev.kiln.bench;

import dev.kiln.common.config.KilnConfig;
import dev.kiln.generate.Generation;
import dev.kiln.generate.GenerationConfig;
import org.apache.spark.sql.SparkSession;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code kiln generate} throughput, new tokens per second: the same prompts and seed on {@code local[1]} (one task
 * at a time: one JVM's core) and on {@code local[2]} (two tasks, the model cached once per executor JVM). Sampling
 * with top-k 40 at temperature 0.8, up to a fixed number of new tokens. Every sequence's random stream depends only on
 * (seed, prompt, sequence), so the two runs must write the same text (checked here) and so do the same work, stops
 * at end-of-text included.
 *
 * <pre>bench/run GenerateBenchmark [pretrain=.kiln/demo/pretrain] [prompts=32] [new-tokens=48]</pre>
 * Run {@code bin/kiln demo} first. The prompts are conf/demo-prompts.txt repeated.
 */
public final class GenerateBenchmark {
    public static void main(String[] args) throws Exception {
        String pretrain = new File(args.length > 0 ? args[0] : ".kiln/demo/pretrain").getAbsolutePath();
        int prompts = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int newTokens = args.length > 2 ? Integer.parseInt(args[2]) : 48;
        List<String> base = Files.readAllLines(new File("conf/demo-prompts.txt").toPath(), StandardCharsets.UTF_8)
                .stream().filter(l -> !l.isBlank()).toList();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            lines.add(base.get(i % base.size()));
        }
        java.nio.file.Path dir = Files.createTempDirectory("kiln-generate-bench");
        java.nio.file.Path promptFile = Files.write(dir.resolve("prompts.txt"), lines, StandardCharsets.UTF_8);

        Map<String, Generation.Result> results = new LinkedHashMap<>();
        for (String master : List.of("local[1]", "local[2]")) {
            Map<String, String> o = new LinkedHashMap<>();
            o.put("kiln.generate.checkpoint", pretrain);
            o.put("kiln.generate.prompts", promptFile.toString());
            o.put("kiln.generate.output", dir.resolve(master.replaceAll("\\W", "") + ".jsonl").toString());
            o.put("kiln.generate.max-new-tokens", Integer.toString(newTokens));
            o.put("kiln.generate.do-sample", "true");
            o.put("kiln.generate.temperature", "0.8");
            o.put("kiln.generate.top-k", "40");
            GenerationConfig cfg = GenerationConfig.from(KilnConfig.load(null, o));
            SparkSession spark = SparkSession.builder().master(master).appName("kiln generate bench " + master)
                    .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1").config("spark.executorEnv.OMP_NUM_THREADS", "1")
                    .getOrCreate();
            try {
                Generation.run(spark, cfg); // warm-up: JIT, native libraries, the model's first forward passes
                results.put(master, Generation.run(spark, cfg));
            } finally {
                spark.stop();
            }
        }
        System.out.println();
        for (var e : results.entrySet()) {
            Generation.Result r = e.getValue();
            System.out.printf(Locale.ROOT, "kiln generate on %s: %d prompts, %,d new tokens in %.1f s: %,.1f tokens/s%n",
                    e.getKey(), r.prompts(), r.tokens(), r.seconds(), r.tokensPerSecond());
        }
        Generation.Result one = results.get("local[1]");
        Generation.Result two = results.get("local[2]");
        Comparator<Generation.Completion> order = Comparator.comparingLong(Generation.Completion::promptIndex)
                .thenComparingInt(Generation.Completion::sequenceIndex);
        List<String> a = one.completions().stream().sorted(order).map(Generation.Completion::text).toList();
        List<String> b = two.completions().stream().sorted(order).map(Generation.Completion::text).toList();
        System.out.printf(Locale.ROOT, "scaling local[2] / local[1] = %.2fx (aim: near 2 on 2 cores); same text on both: %s%n",
                two.tokensPerSecond() / one.tokensPerSecond(), a.equals(b));
        if (!a.equals(b)) {
            throw new IllegalStateException("local[1] and local[2] generated different text from the same seed");
        }
    }
}
