package dev.kiln.evaluate;

import dev.kiln.common.log.Progress;
import dev.kiln.common.spark.SparkStages;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.SerializableConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The Spark side of {@code kiln evaluate}, kept thin: the metric math lives in plain classes
 * ({@link ShardDocuments}, {@link RollingWindows}, {@link DocumentScorer}, {@link LmStats}, the n-gram scorers).
 * <ol>
 *   <li>Baselines: one task per chunk of the train shards counts unigrams and bigrams; the driver merges them and
 *       fits the models.</li>
 *   <li>Scoring: the checkpoints (weights only), the tokenizer and the baselines are broadcast once; one task per
 *       chunk of the scored shards recovers its documents, cuts them into rolling windows and scores them with
 *       every model, taking model instances from its executor's {@link ModelCache}; it returns one
 *       {@link LmStats} per model, in total and per source group ({@link SourceGroups}: a document's group comes
 *       from its source in a format 2 shard; a format 1 shard's documents are grouped under its shard folder).</li>
 *   <li>The driver sums the chunks' statistics in chunk order (so the sums are the same for any partitioning),
 *       totals and groups separately (the totals are the sums of the documents, not of the groups), caps the
 *       groups at {@code per-source.max-groups} and destroys the broadcasts.</li>
 * </ol>
 */
public final class Evaluation {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluation.class);
    private static final ConcurrentHashMap<String, BpeTokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private Evaluation() {
    }

    /** A run of consecutive record batches of one shard: the unit of work of a task. */
    /** Rows {@code [firstRow, firstRow + rows)} of one shard: a task's share of the stream. */
    public record Chunk(int index, int shardSet, String shard, long firstRow, long rows) implements Serializable {
    }

    record ChunkResult(int index, int shardSet, List<LmStats> stats, Map<String, List<LmStats>> groups, long rows)
            implements Serializable {
    }

    /**
     * What was scored: per shard set, one {@link LmStats} per scorer (checkpoints first, then baselines), and the same
     * per source group ({@code perSource.get(set)}, capped by {@link SourceGroups#cap}).
     */
    public record Result(String runId, List<String> scorers, int checkpoints, List<List<LmStats>> perShardSet,
                         List<SourceGroups.Capped> perSource, NgramCounts counts, KneserNeyBigram bigram, long rows, int tasks,
                         double scoringSeconds) {
    }

    public static Result run(SparkSession spark, EvaluateConfig cfg, Inputs.Checked in) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        SerializableConfiguration hadoop = new SerializableConfiguration(spark.sparkContext().hadoopConfiguration());
        String runId = UUID.randomUUID().toString();
        int v = in.vocabSize();

        // 1. Baselines, counted on the train split of the same shard folders.
        List<NgramScorer> baselines = new ArrayList<>();
        List<String> names = new ArrayList<>();
        in.checkpoints().forEach(c -> names.add(c.name()));
        NgramCounts counts = null;
        KneserNeyBigram bigram = null;
        if (!cfg.baselines().isEmpty()) {
            counts = countNgrams(spark, in, hadoop, cfg.blocksPerTask());
            for (EvaluateConfig.Baseline b : cfg.baselines()) {
                switch (b) {
                    case UNIFORM -> baselines.add(new NgramScorer.Uniform(v));
                    case UNIGRAM -> baselines.add(new NgramScorer.UnigramAddOne(counts));
                    case BIGRAM -> {
                        bigram = new KneserNeyBigram(counts, cfg.bigramDiscount());
                        baselines.add(bigram);
                    }
                }
                names.add(b.key());
            }
        }

        // 2. Scoring: one broadcast per input, one task per chunk.
        List<Chunk> chunks = chunks(in, hadoop, Math.max(1, cfg.tokensPerTask() / in.contextLength()), 0, false);
        long totalTokens = in.shardSets().stream().flatMap(s -> s.scored().stream()).mapToLong(ShardInfo::tokens).sum();
        long totalRows = in.shardSets().stream().flatMap(s -> s.scored().stream()).mapToLong(ShardInfo::rows).sum();
        Broadcast<List<byte[]>> models = sc.broadcast(new ArrayList<>(in.checkpoints().stream().map(Inputs.CheckpointInput::modelBytes).toList()));
        Broadcast<List<NgramScorer>> baselineModels = sc.broadcast(baselines);
        Broadcast<String> tokenizerJson = sc.broadcast(in.tokenizerJson());
        LongAccumulator scoredTokens = sc.sc().longAccumulator("kiln evaluate: tokens scored");
        List<String> unknownSource = new ArrayList<>(in.shardSets().stream().map(set -> set.dir().toString()).toList());
        ScoreTask task = new ScoreTask(runId, hadoop, in.contextLength(), in.endOfText(), cfg.batchSize(), in.checkpoints().size(),
                models, baselineModels, in.tokenizerSha256(), tokenizerJson, scoredTokens, cfg.perSource(), unknownSource);
        SparkStages.stage(spark, "evaluate", "score " + in.checkpoints().size() + " checkpoint(s) and " + baselines.size()
                + " baseline(s) on " + chunks.size() + " chunk(s) of split " + cfg.split());
        Progress progress = new Progress("evaluate: score " + cfg.split() + " (records = tokens)", totalTokens, -1, 10, TimeUnit.SECONDS);
        long start = System.nanoTime();
        List<ChunkResult> results;
        try (Poller ignored = poll(scoredTokens, progress)) {
            results = new ArrayList<>(sc.parallelize(chunks, Math.max(1, chunks.size())).map(task).collect());
        } finally {
            models.destroy();
            baselineModels.destroy();
            tokenizerJson.destroy();
            ModelCache.evict(runId);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        progress.done();

        // 3. Sums in chunk order: the same numbers for any partitioning and task order.
        results.sort(Comparator.comparingInt(ChunkResult::index));
        List<List<LmStats>> perSet = new ArrayList<>();
        List<Map<String, List<LmStats>>> groupSums = new ArrayList<>();
        for (int s = 0; s < in.shardSets().size(); s++) {
            perSet.add(new ArrayList<>(java.util.Collections.nCopies(names.size(), LmStats.ZERO)));
            groupSums.add(new HashMap<>());
        }
        long rows = 0;
        for (ChunkResult r : results) {
            List<LmStats> sum = perSet.get(r.shardSet());
            for (int i = 0; i < sum.size(); i++) {
                sum.set(i, sum.get(i).plus(r.stats().get(i)));
            }
            Map<String, List<LmStats>> groups = groupSums.get(r.shardSet());
            r.groups().forEach((g, stats) -> groups.merge(g, stats, SourceGroups::plus));
            rows += r.rows();
        }
        List<SourceGroups.Capped> perSource = new ArrayList<>();
        for (int s = 0; s < in.shardSets().size(); s++) {
            SourceGroups.Capped c = cfg.perSource().cap(groupSums.get(s));
            perSource.add(c);
            LOG.info(String.format(Locale.ROOT, "[evaluate] %s: %d source group(s) (group-by %s)%s", in.shardSets().get(s).dir(),
                    c.found(), cfg.perSource().groupBy().key(), c.folded() > 0 ? ", " + c.folded() + " summed into " + SourceGroups.OTHER : ""));
        }
        long tokens = perSet.stream().mapToLong(l -> l.get(0).tokens()).sum();
        LOG.info(String.format(Locale.ROOT, "[evaluate] scored %,d rows (%,d in the manifests), %,d tokens with %d model(s) in %s: %,.0f tokens/s",
                rows, totalRows, tokens, names.size(), Progress.duration(seconds), tokens / Math.max(seconds, 1e-9)));
        return new Result(runId, List.copyOf(names), in.checkpoints().size(), perSet, List.copyOf(perSource), counts, bigram, rows,
                chunks.size(), seconds);
    }

    /** Unigram and bigram counts of the train split, one task per chunk, merged by treeReduce. */
    static NgramCounts countNgrams(SparkSession spark, Inputs.Checked in, SerializableConfiguration hadoop, int blocksPerTask)
            throws IOException {
        int v = in.vocabSize();
        int eot = in.endOfText();
        List<Chunk> trainChunks = chunks(in, hadoop, 0, blocksPerTask, true);
        SparkStages.stage(spark, "evaluate", "count unigrams and bigrams on " + trainChunks.size() + " chunk(s) of the train split");
        NgramCounts counts = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(trainChunks, Math.max(1, trainChunks.size())).map(chunk -> {
                    NgramCounts.Counter counter = new NgramCounts.Counter(v, eot);
                    Path p = new Path(chunk.shard());
                    try (ShardReader r = ShardReader.open(p.getFileSystem(hadoop.value()), p)) {
                        ShardDocuments.forEachDocument(r, r.blockRows(), chunk.firstRow(), chunk.rows(), eot,
                                (source, doc) -> counter.addDocument(doc));
                    }
                    return counter.counts();
                }).treeReduce(NgramCounts::plus);
        LOG.info(String.format(Locale.ROOT, "[evaluate] baselines counted on %,d train tokens: %,d distinct bigrams",
                counts.tokens(), counts.distinctBigrams()));
        return counts;
    }

    /** A background poller that stops on close. */
    private interface Poller extends AutoCloseable {
        @Override
        void close();
    }

    /** Feeds the accumulator's count of scored tokens into the driver's progress line every second. */
    private static Poller poll(LongAccumulator scoredTokens, Progress progress) {
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "kiln-evaluate-progress");
            th.setDaemon(true);
            return th;
        });
        long[] seen = {0};
        Runnable update = () -> {
            long now = scoredTokens.value();
            progress.add(now - seen[0], 0);
            seen[0] = now;
        };
        poller.scheduleAtFixedRate(update, 1, 1, TimeUnit.SECONDS);
        return () -> {
            poller.shutdown();
            try {
                poller.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            update.run(); // the tasks that finished since the last tick
        };
    }

    /** The executor side of scoring: one chunk's documents, every model, one {@link LmStats} per model. */
    static final class ScoreTask implements Function<Chunk, ChunkResult> {
        private final String runId;
        private final SerializableConfiguration hadoop;
        private final int contextLength;
        private final int endOfText;
        private final int batchSize;
        private final int checkpoints;
        private final Broadcast<List<byte[]>> models;
        private final Broadcast<List<NgramScorer>> baselines;
        private final String tokenizerSha256;
        private final Broadcast<String> tokenizerJson;
        private final LongAccumulator scoredTokens;
        private final SourceGroups perSource;
        private final List<String> unknownSource;

        ScoreTask(String runId, SerializableConfiguration hadoop, int contextLength, int endOfText, int batchSize, int checkpoints,
                  Broadcast<List<byte[]>> models, Broadcast<List<NgramScorer>> baselines, String tokenizerSha256,
                  Broadcast<String> tokenizerJson, LongAccumulator scoredTokens, SourceGroups perSource, List<String> unknownSource) {
            this.runId = runId;
            this.hadoop = hadoop;
            this.contextLength = contextLength;
            this.endOfText = endOfText;
            this.batchSize = batchSize;
            this.checkpoints = checkpoints;
            this.models = models;
            this.baselines = baselines;
            this.tokenizerSha256 = tokenizerSha256;
            this.tokenizerJson = tokenizerJson;
            this.scoredTokens = scoredTokens;
            this.perSource = perSource;
            this.unknownSource = unknownSource;
        }

        @Override
        public ChunkResult call(Chunk chunk) throws IOException {
            BpeTokenizer tokenizer = TOKENIZERS.computeIfAbsent(tokenizerSha256, k -> TokenizerJson.read(tokenizerJson.value(), "tokenizer " + k));
            List<ComputationGraph> borrowed = new ArrayList<>();
            List<TokenScorer> scorers = new ArrayList<>();
            try {
                for (int i = 0; i < checkpoints; i++) {
                    int index = i;
                    ComputationGraph g = ModelCache.borrow(runId, Integer.toString(i), () -> restore(models.value().get(index)));
                    borrowed.add(g);
                    scorers.add(new ModelScorer(g, batchSize, contextLength, endOfText));
                }
                scorers.addAll(baselines.value());
                DocumentScorer scorer = new DocumentScorer(contextLength, endOfText, batchSize, tokenizer::decodeBytes, scorers);
                Path p = new Path(chunk.shard());
                Progress progress = new Progress("evaluate " + p.getName() + " rows " + chunk.firstRow() + "+"
                        + chunk.rows() + " (records = documents)", -1, -1);
                long rows;
                SourceGroups.Grouper grouper = perSource.grouper();
                String unknown = unknownSource.get(chunk.shardSet()); // a format 1 shard's documents: their shard folder
                try (ShardReader r = ShardReader.open(p.getFileSystem(hadoop.value()), p)) {
                    rows = ShardDocuments.forEachDocument(r, r.blockRows(), chunk.firstRow(), chunk.rows(), endOfText, (source, doc) -> {
                        long before = scorer.bytes();
                        scorer.add(doc, source == null ? unknown : grouper.group(source));
                        scoredTokens.add(doc.length);
                        progress.add(1, scorer.bytes() - before);
                    });
                }
                progress.done();
                return new ChunkResult(chunk.index(), chunk.shardSet(), scorer.stats(), scorer.groupStats(), rows);
            } finally {
                for (int i = 0; i < borrowed.size(); i++) {
                    ModelCache.release(runId, Integer.toString(i), borrowed.get(i));
                }
            }
        }
    }

    static ComputationGraph restore(byte[] bytes) {
        try {
            return ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore the broadcast checkpoint", e);
        }
    }

    /**
     * Chunks over the scored (or, with {@code train}, the train) shards: {@code rowsPerTask} rows each when it is
     * positive, else {@code blocksPerTask} record batches each. Cut from the shards' batch headers alone, by config
     * only (never by the cluster's size), so the driver's sums in chunk order are the same on any cluster.
     */
    static List<Chunk> chunks(Inputs.Checked in, SerializableConfiguration hadoop, long rowsPerTask, int blocksPerTask, boolean train)
            throws IOException {
        List<Chunk> out = new ArrayList<>();
        for (int s = 0; s < in.shardSets().size(); s++) {
            Inputs.ShardSetInput set = in.shardSets().get(s);
            for (ShardInfo info : train ? set.train() : set.scored()) {
                if (info.rows() == 0) {
                    continue;
                }
                Path p = set.shardPath(info);
                FileSystem fs = p.getFileSystem(hadoop.value());
                long[] blockRows;
                try (ShardReader r = ShardReader.open(fs, p)) { // the footer and the batch headers only
                    blockRows = r.blockRows();
                }
                long first = 0;
                if (rowsPerTask > 0) {
                    long total = java.util.Arrays.stream(blockRows).sum();
                    for (; first < total; first += rowsPerTask) {
                        out.add(new Chunk(out.size(), s, p.toString(), first, Math.min(rowsPerTask, total - first)));
                    }
                } else {
                    for (int b = 0; b < blockRows.length; b += blocksPerTask) {
                        long rows = 0;
                        for (int k = b; k < Math.min(b + blocksPerTask, blockRows.length); k++) {
                            rows += blockRows[k];
                        }
                        out.add(new Chunk(out.size(), s, p.toString(), first, rows));
                        first += rows;
                    }
                }
            }
        }
        return out;
    }
}
