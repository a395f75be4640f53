package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.spark.SparkStages;
import dev.kiln.evaluate.text.Bleu;
import dev.kiln.evaluate.text.BleuStats;
import dev.kiln.evaluate.text.Rouge;
import dev.kiln.generate.CachedModel;
import dev.kiln.generate.GenerationConfig;
import dev.kiln.generate.Generator;
import dev.kiln.generate.LanguageModel;
import dev.kiln.generate.PromptFile;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generation part of {@code kiln evaluate}: every checkpoint continues every prompt (from a prompt file and/or
 * cut from documents of the scored split) with the decoding code of {@code kiln generate} ({@link Generator}), in
 * Spark tasks that take models from their executor's {@link ModelCache}. Each task also scores its segments (BLEU
 * statistics, ROUGE scores) against the references; the driver sums them in (checkpoint, prompt) order, so corpus
 * BLEU and mean ROUGE do not depend on the partitioning.
 */
public final class GenerationReport {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationReport.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ConcurrentHashMap<String, BpeTokenizer> TOKENIZERS = new ConcurrentHashMap<>();
    static final String SOURCE_FILE = "prompt-file";
    static final String SOURCE_DOCUMENTS = "validation-document";

    private GenerationReport() {
    }

    /**
     * One prompt: its ids (what the model is given), its text as shown, and the reference continuation or null.
     * {@code source} is {@link #SOURCE_FILE} or {@link #SOURCE_DOCUMENTS}.
     */
    public record EvalPrompt(int index, String source, int[] ids, String text, String reference) implements Serializable {
    }

    /** One generated continuation and, with a reference, its segment statistics. */
    public record Sample(int checkpoint, int prompt, String text, int tokens, String stopReason, BleuStats bleu,
                         Rouge.Sums rouge) implements Serializable {
    }

    /** Per checkpoint (config order), its samples in prompt order. */
    public record Result(List<EvalPrompt> prompts, List<List<Sample>> perCheckpoint, double seconds) {
    }

    /** The prompts, read and cut in the driver; a bad prompt file is an InvalidConfigException naming it. */
    public static List<EvalPrompt> prompts(EvaluateConfig.GenerationEval cfg, Inputs.Checked in, Configuration hadoop) throws IOException {
        BpeTokenizer tokenizer = TokenizerJson.read(in.tokenizerJson(), "tokenizer " + in.tokenizerSha256());
        List<EvalPrompt> out = new ArrayList<>();
        if (cfg.prompts() != null) {
            for (PromptFile.Entry p : PromptFile.read(hadoop, cfg.prompts(), EvaluateConfig.SECTION + ".generation.prompts")) {
                // As text: a literal <|endoftext|> in a prompt is not the special token (as in kiln generate).
                out.add(new EvalPrompt(out.size(), SOURCE_FILE, tokenizer.encode(p.prompt()), p.prompt(), p.reference()));
            }
        }
        if (cfg.fromValidation() > 0) {
            int k = cfg.promptTokens();
            int m = cfg.referenceTokens();
            for (int[] doc : documents(in, hadoop, cfg.fromValidation(), k + m)) {
                int[] prompt = Arrays.copyOf(doc, k);
                int[] reference = Arrays.copyOfRange(doc, k, k + m);
                // Decoded separately, so a character cut at a boundary shows as U+FFFD on both sides.
                out.add(new EvalPrompt(out.size(), SOURCE_DOCUMENTS, prompt, tokenizer.decode(prompt), tokenizer.decode(reference)));
            }
        }
        if (out.isEmpty()) {
            LOG.warn("[evaluate] generation: no prompts (no prompt file, and no document of the scored split has {} tokens)",
                    cfg.promptTokens() + cfg.referenceTokens());
        }
        return out;
    }

    /** The first {@code n} documents of at least {@code minTokens} tokens of the scored split, in shard order. */
    static List<int[]> documents(Inputs.Checked in, Configuration hadoop, int n, int minTokens) throws IOException {
        List<int[]> out = new ArrayList<>();
        for (Inputs.ShardSetInput set : in.shardSets()) {
            for (ShardInfo info : set.scored()) {
                if (info.rows() == 0) {
                    continue;
                }
                Path p = set.shardPath(info);
                try (ShardReader r = ShardReader.open(p.getFileSystem(hadoop), p)) {
                    // One block at a time (each owns the documents that start in it), to stop reading once n are found.
                    for (int b = 0; b < r.blockCount() && out.size() < n; b++) {
                        ShardDocuments.forEach(r, b, 1, set.endOfText(), doc -> {
                            if (out.size() < n && doc.length >= minTokens) {
                                out.add(doc);
                            }
                        });
                    }
                }
                if (out.size() >= n) {
                    return out;
                }
            }
        }
        return out;
    }

    /** Generates with every checkpoint for every prompt: one Spark job, one task per slice of prompts. */
    public static Result run(SparkSession spark, String runId, Inputs.Checked in, GenerationConfig decoding, List<EvalPrompt> prompts) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int slices = Math.max(1, Math.min(prompts.size(), sc.defaultParallelism()));
        Broadcast<List<byte[]>> models = sc.broadcast(new ArrayList<>(in.checkpoints().stream().map(Inputs.CheckpointInput::modelBytes).toList()));
        Broadcast<String> tokenizerJson = sc.broadcast(in.tokenizerJson());
        SparkStages.stage(spark, "evaluate", "generate for " + prompts.size() + " prompt(s) with " + in.checkpoints().size()
                + " checkpoint(s) in " + slices + " task(s)");
        long start = System.nanoTime();
        List<Sample> samples;
        try {
            samples = new ArrayList<>(sc.parallelize(prompts, slices).mapPartitions(new GenerateTask(runId, models,
                    tokenizerJson, in.tokenizerSha256(), in.checkpoints().size(), in.endOfText(), decoding)).collect());
        } finally {
            models.destroy();
            tokenizerJson.destroy();
            ModelCache.evict(runId);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        samples.sort(Comparator.comparingInt(Sample::checkpoint).thenComparingInt(Sample::prompt));
        List<List<Sample>> per = new ArrayList<>();
        for (int c = 0; c < in.checkpoints().size(); c++) {
            per.add(new ArrayList<>());
        }
        samples.forEach(s -> per.get(s.checkpoint()).add(s));
        long tokens = samples.stream().mapToLong(Sample::tokens).sum();
        LOG.info(String.format(Locale.ROOT, "[evaluate] generated %,d tokens for %d prompt(s) with %d checkpoint(s) in %.1f s",
                tokens, prompts.size(), in.checkpoints().size(), seconds));
        return new Result(List.copyOf(prompts), per, seconds);
    }

    /** Corpus BLEU over the samples with a reference: their statistics summed in prompt order. */
    public static Bleu.Score bleu(List<Sample> samples) {
        BleuStats sum = BleuStats.ZERO;
        for (Sample s : samples) {
            if (s.bleu() != null) {
                sum = sum.plus(s.bleu());
            }
        }
        return Bleu.score(sum);
    }

    /** ROUGE sums over the samples with a reference, in prompt order. */
    public static Rouge.Sums rouge(List<Sample> samples) {
        Rouge.Sums sum = Rouge.Sums.ZERO;
        for (Sample s : samples) {
            if (s.rouge() != null) {
                sum = sum.plus(s.rouge());
            }
        }
        return sum;
    }

    /** report.json's {@code generation}: one object per checkpoint with its metrics and samples. */
    public static ArrayNode json(Result r, Inputs.Checked in, EvaluateConfig.GenerationEval cfg) {
        ArrayNode out = JSON.createArrayNode();
        for (int c = 0; c < r.perCheckpoint().size(); c++) {
            List<Sample> samples = r.perCheckpoint().get(c);
            Inputs.CheckpointInput ckpt = in.checkpoints().get(c);
            ObjectNode g = out.addObject();
            g.put("name", ckpt.name());
            g.put("checkpoint", ckpt.name());
            g.put("step", ckpt.step());
            g.put("prompts", samples.size());
            g.put("prompt_file", cfg.prompts());
            g.put("from_validation", r.prompts().stream().filter(p -> p.source().equals(SOURCE_DOCUMENTS)).count());
            long scored = samples.stream().filter(s -> s.bleu() != null).count();
            g.put("scored", scored);
            g.put("generated_tokens", samples.stream().mapToLong(Sample::tokens).sum());
            g.put("decoding", cfg.decoding().doSample() ? "sampling" : "greedy");
            g.put("max_new_tokens", cfg.decoding().maxNewTokens());
            g.put("job_seconds", r.seconds());
            ObjectNode m = g.putObject("metrics");
            if (scored > 0) {
                Bleu.Score b = bleu(samples);
                Rouge.Sums rs = rouge(samples);
                m.put("bleu", b.bleu());
                for (int n = 0; n < BleuStats.MAX_ORDER; n++) {
                    m.put("bleu_precision_" + (n + 1), b.precisions()[n]);
                }
                m.put("bleu_brevity_penalty", b.brevityPenalty());
                m.put("bleu_length_ratio", b.lengthRatio());
                m.put("bleu_hyp_len", b.stats().hypLen());
                m.put("bleu_ref_len", b.stats().refLen());
                for (Rouge.Type t : Rouge.Type.values()) {
                    m.put(t.key() + "_f", rs.mean(t).fmeasure());
                }
            }
            ArrayNode arr = g.putArray("samples");
            for (Sample s : samples) {
                EvalPrompt p = r.prompts().get(s.prompt());
                ObjectNode o = arr.addObject();
                o.put("index", p.index());
                o.put("source", p.source());
                o.put("prompt", p.text());
                o.put("reference", p.reference());
                o.put("text", s.text());
                o.put("tokens", s.tokens());
                o.put("stop_reason", s.stopReason());
            }
        }
        return out;
    }

    /** The executor side: a slice of prompts, every checkpoint, one {@link Sample} per (checkpoint, prompt). */
    static final class GenerateTask implements FlatMapFunction<Iterator<EvalPrompt>, Sample> {
        private final String runId;
        private final Broadcast<List<byte[]>> models;
        private final Broadcast<String> tokenizerJson;
        private final String tokenizerSha256;
        private final int checkpoints;
        private final int endOfText;
        private final GenerationConfig decoding;

        GenerateTask(String runId, Broadcast<List<byte[]>> models, Broadcast<String> tokenizerJson, String tokenizerSha256,
                     int checkpoints, int endOfText, GenerationConfig decoding) {
            this.runId = runId;
            this.models = models;
            this.tokenizerJson = tokenizerJson;
            this.tokenizerSha256 = tokenizerSha256;
            this.checkpoints = checkpoints;
            this.endOfText = endOfText;
            this.decoding = decoding;
        }

        @Override
        public Iterator<Sample> call(Iterator<EvalPrompt> it) {
            List<EvalPrompt> prompts = new ArrayList<>();
            it.forEachRemaining(prompts::add);
            List<Sample> out = new ArrayList<>();
            if (prompts.isEmpty()) {
                return out.iterator();
            }
            BpeTokenizer tokenizer = TOKENIZERS.computeIfAbsent(tokenizerSha256, k -> TokenizerJson.read(tokenizerJson.value(), "tokenizer " + k));
            List<Generator.Request> requests = new ArrayList<>();
            for (EvalPrompt p : prompts) {
                requests.add(new Generator.Request(p.index(), 0, p.ids()));
            }
            for (int c = 0; c < checkpoints; c++) {
                int index = c;
                // Under the scoring run's id (a new id would make ModelCache drop that run's counts), other keys.
                String key = "generate-" + c;
                ComputationGraph g = ModelCache.borrow(runId, key, () -> Evaluation.restore(models.value().get(index)));
                List<Generator.Result> results;
                try {
                    // KV-cached decoding; a sequence's numbers do not depend on the other rows of its batch (see
                    // KvCache), so the text does not depend on which prompts share this task.
                    LanguageModel model = CachedModel.of(g);
                    results = new Generator(model, decoding, endOfText).generate(requests, null);
                } finally {
                    ModelCache.release(runId, key, g);
                }
                for (int i = 0; i < results.size(); i++) {
                    Generator.Result r = results.get(i);
                    EvalPrompt p = prompts.get(i);
                    String text = tokenizer.decode(r.tokens());
                    BleuStats bleu = null;
                    Rouge.Sums rouge = null;
                    if (p.reference() != null) {
                        bleu = Bleu.segment(text, List.of(p.reference()));
                        rouge = Rouge.Sums.of(Rouge.score(p.reference(), text));
                    }
                    out.add(new Sample(c, p.index(), text, r.tokens().length, r.stop().json(), bleu, rouge));
                }
            }
            return out.iterator();
        }
    }
}
