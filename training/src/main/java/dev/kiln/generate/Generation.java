package dev.kiln.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.log.Progress;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * {@code kiln generate}: text from a checkpoint for a file of prompts, spread over Spark tasks, or for one prompt
 * in the driver. The checkpoint (model bytes + tokenizer) is broadcast once; each executor JVM restores a model
 * from it at most once per concurrently running task and keeps it for every later task of the job (never one model
 * per task). Output: one JSONL line per (prompt, sequence), in prompt order, written atomically.
 */
public final class Generation {
    private static final Logger LOG = LoggerFactory.getLogger(Generation.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private Generation() {
    }

    /** A prompt and its position in the input (which, with the seed, fixes its random streams). */
    public record Prompt(long index, String text) implements Serializable {
    }

    /**
     * One generated sequence. {@code tokens} counts the new tokens in {@code text}; the end-of-text token that
     * ended it (stop reason end_of_text) is not part of either.
     */
    public record Completion(long promptIndex, String prompt, int sequenceIndex, String text, int tokens,
                             String stopReason) implements Serializable {
        public String toJson() {
            ObjectNode n = JSON.createObjectNode();
            n.put("prompt_index", promptIndex);
            n.put("prompt", prompt);
            n.put("sequence_index", sequenceIndex);
            n.put("text", text);
            n.put("tokens", tokens);
            n.put("stop_reason", stopReason);
            return n.toString();
        }
    }

    /** What a run did. */
    public record Result(String checkpoint, int prompts, List<Completion> completions, long tokens, double seconds,
                         String output) {
        public double tokensPerSecond() {
            return tokens / Math.max(1e-9, seconds);
        }
    }

    /**
     * {@code --dry-run}: checks the checkpoint, tokenizer and prompts as a run would, and says what it would generate
     * and where; writes nothing. {@code prompt}: the {@code --prompt} text, or null for the prompt file.
     */
    public static String plan(Configuration hadoop, GenerationConfig cfg, String prompt) throws IOException {
        int prompts;
        if (prompt != null) {
            prompts = 1;
        } else if (cfg.prompts() == null) {
            throw new InvalidConfigException(GenerationConfig.SECTION + ".prompts", null,
                    "no prompts: set a prompt file (one per line, or .jsonl with a \"prompt\" field), or give --prompt TEXT");
        } else {
            prompts = readPrompts(hadoop, cfg.prompts()).size();
        }
        GenerationCheckpoint ckpt = GenerationCheckpoint.open(cfg, hadoop);
        return "  checkpoint: " + ckpt.folder() + " (step " + ckpt.step() + "), context " + ckpt.contextLength()
                + ", vocabulary " + ckpt.vocabSize() + "\n  tokenizer: " + ckpt.tokenizerPath() + "\n  prompts: " + prompts
                + (prompt != null ? " (--prompt)" : " from " + cfg.prompts()) + "\n  would write " + prompts * cfg.numReturnSequences()
                + " sequence(s) to " + cfg.output() + "\n";
    }

    /** Generates for every prompt of {@code cfg.prompts()} over Spark tasks. */
    public static Result run(SparkSession spark, GenerationConfig cfg) throws IOException {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        if (cfg.prompts() == null) {
            throw new InvalidConfigException(GenerationConfig.SECTION + ".prompts", null,
                    "no prompts: set a prompt file (one per line, or .jsonl with a \"prompt\" field), or give --prompt TEXT");
        }
        warnIgnored(cfg);
        List<Prompt> prompts = readPrompts(hadoop, cfg.prompts());
        GenerationCheckpoint ckpt = GenerationCheckpoint.open(cfg, hadoop);
        long start = System.nanoTime();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int slices = cfg.partitions() > 0 ? cfg.partitions() : Math.min(prompts.size(), sc.defaultParallelism());
        LOG.info("[generate] {} prompts from {} over {} tasks; checkpoint {} (step {}), context {}, vocabulary {}",
                prompts.size(), cfg.prompts(), slices, ckpt.folder(), ckpt.step(), ckpt.contextLength(), ckpt.vocabSize());
        Broadcast<GenerationCheckpoint> bc = sc.broadcast(ckpt);
        List<Completion> completions;
        try {
            completions = new ArrayList<>(sc.parallelize(prompts, slices)
                    .mapPartitions(new PartitionTask(bc, cfg)).collect());
        } finally {
            bc.destroy();
        }
        return finish(hadoop, cfg, ckpt, prompts.size(), completions, start);
    }

    /** Generates for one prompt (index 0) in this JVM: {@code kiln generate --prompt TEXT}. */
    public static Result runOne(Configuration hadoop, GenerationConfig cfg, String prompt) throws IOException {
        warnIgnored(cfg);
        GenerationCheckpoint ckpt = GenerationCheckpoint.open(cfg, hadoop);
        long start = System.nanoTime();
        LanguageModel model = CachedModel.of(GenerationCheckpoint.restore(ckpt.modelZip()));
        Progress progress = new Progress("generate tokens", -1, -1);
        List<Completion> out = complete(model, ckpt.tokenizer(), cfg, ckpt.endOfText(), List.of(new Prompt(0, prompt)),
                progress);
        progress.done();
        return finish(hadoop, cfg, ckpt, 1, out, start);
    }

    private static void warnIgnored(GenerationConfig cfg) {
        if (!cfg.ignoredByGreedy().isEmpty()) {
            LOG.warn("[generate] do-sample = false (greedy decoding): {} only apply when sampling and are ignored",
                    cfg.ignoredByGreedy());
        }
    }

    private static Result finish(Configuration hadoop, GenerationConfig cfg, GenerationCheckpoint ckpt, int prompts,
                                 List<Completion> completions, long start) throws IOException {
        completions.sort(Comparator.comparingLong(Completion::promptIndex).thenComparingInt(Completion::sequenceIndex));
        double seconds = (System.nanoTime() - start) / 1e9;
        long tokens = completions.stream().mapToLong(Completion::tokens).sum();
        Path output = new Path(cfg.output());
        FileSystem fs = output.getFileSystem(hadoop);
        StringBuilder sb = new StringBuilder();
        for (Completion c : completions) {
            sb.append(c.toJson()).append('\n');
        }
        AtomicOutput.writeString(fs, output, sb.toString());
        Result r = new Result(ckpt.folder(), prompts, List.copyOf(completions), tokens, seconds, output.toString());
        LOG.info(String.format(Locale.ROOT, "[generate] done: %d prompts, %d sequences, %,d tokens in %s (%.1f tokens/s); "
                        + "wrote %s", prompts, completions.size(), tokens, Progress.duration(seconds),
                r.tokensPerSecond(), output));
        return r;
    }

    /** The prompts of a {@link PromptFile} ({@code kiln.generate.prompts}); indices count the prompts kept, in file order. */
    public static List<Prompt> readPrompts(Configuration hadoop, String file) throws IOException {
        List<Prompt> out = new ArrayList<>();
        for (PromptFile.Entry e : PromptFile.read(hadoop, file, GenerationConfig.SECTION + ".prompts")) {
            out.add(new Prompt(out.size(), e.prompt()));
        }
        return out;
    }

    /** Encodes the prompts, generates {@code numReturnSequences} sequences for each and decodes them. */
    public static List<Completion> complete(LanguageModel model, BpeTokenizer tokenizer, GenerationConfig cfg,
                                            int endOfText, List<Prompt> prompts, Progress progress) {
        List<Generator.Request> requests = new ArrayList<>();
        Map<Long, String> texts = new HashMap<>();
        for (Prompt p : prompts) {
            // As text: a literal <|endoftext|> in a prompt is not the special token (BpeTokenizer.encode).
            int[] ids = tokenizer.encode(p.text());
            texts.put(p.index(), p.text());
            for (int s = 0; s < cfg.numReturnSequences(); s++) {
                requests.add(new Generator.Request(p.index(), s, ids));
            }
        }
        List<Generator.Result> results = new Generator(model, cfg, endOfText)
                .generate(requests, n -> progress.add(n, 0));
        List<Completion> out = new ArrayList<>(results.size());
        for (Generator.Result r : results) {
            out.add(new Completion(r.promptIndex(), texts.get(r.promptIndex()), r.sequenceIndex(),
                    tokenizer.decode(r.tokens()), r.tokens().length, r.stop().json()));
        }
        return out;
    }

    /** One task: its prompts through a model borrowed from the executor's cache. */
    static final class PartitionTask implements FlatMapFunction<Iterator<Prompt>, Completion> {
        private final Broadcast<GenerationCheckpoint> checkpoint;
        private final GenerationConfig cfg;

        PartitionTask(Broadcast<GenerationCheckpoint> checkpoint, GenerationConfig cfg) {
            this.checkpoint = checkpoint;
            this.cfg = cfg;
        }

        @Override
        public Iterator<Completion> call(Iterator<Prompt> it) {
            List<Prompt> prompts = new ArrayList<>();
            it.forEachRemaining(prompts::add);
            if (prompts.isEmpty()) {
                return List.<Completion>of().iterator();
            }
            ExecutorCache.Replica replica = ExecutorCache.borrow(checkpoint);
            try {
                Progress progress = new Progress("generate tokens", -1, -1);
                List<Completion> out = complete(replica.model(), replica.tokenizer(), cfg,
                        checkpoint.value().endOfText(), prompts, progress);
                progress.done();
                return out.iterator();
            } finally {
                ExecutorCache.release(checkpoint, replica);
            }
        }
    }

    /**
     * Models restored from the broadcast, per executor JVM: a task borrows one and gives it back, so an executor
     * holds at most as many as it runs tasks at once (its cores), whatever the number of tasks. Models are keyed by
     * the checkpoint (folder, step and a CRC-32 of the model's bytes), so a later job on the same checkpoint in the
     * same JVM (a local master running several jobs, the benchmark) reuses them; when another checkpoint arrives, the
     * older ones are dropped (each kiln command is its own Spark application, so an executor never outlives more than one).
     */
    static final class ExecutorCache {
        record Replica(LanguageModel model, BpeTokenizer tokenizer) {
        }

        private static final Map<String, ConcurrentLinkedDeque<Replica>> POOLS = new ConcurrentHashMap<>();
        private static final AtomicInteger RESTORED = new AtomicInteger();

        static Replica borrow(Broadcast<GenerationCheckpoint> bc) {
            GenerationCheckpoint c = bc.value();
            String key = key(c);
            POOLS.keySet().removeIf(k -> !k.equals(key));
            Replica r = POOLS.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).pollFirst();
            if (r != null) {
                return r;
            }
            try {
                Replica fresh = new Replica(CachedModel.of(GenerationCheckpoint.restore(c.modelZip())), c.tokenizer());
                RESTORED.incrementAndGet();
                return fresh;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot restore the model of " + c.folder(), e);
            }
        }

        static void release(Broadcast<GenerationCheckpoint> bc, Replica r) {
            ConcurrentLinkedDeque<Replica> pool = POOLS.get(key(bc.value()));
            if (pool != null) {
                pool.addFirst(r);
            }
        }

        private static String key(GenerationCheckpoint c) {
            CRC32 crc = new CRC32();
            crc.update(c.modelZip());
            return c.folder() + "@" + c.step() + "#" + Long.toHexString(crc.getValue());
        }

        /** Models restored from a broadcast in this JVM so far (tests: never one per task). */
        static int restored() {
            return RESTORED.get();
        }
    }
}
