package dev.kiln.evaluate;

import dev.kiln.common.log.Progress;
import dev.kiln.common.spark.SparkStages;
import dev.kiln.model.GptModel;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
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
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
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
 *   <li>Scoring, one job of two stages; the checkpoints (weights only), the tokenizer and the baselines are broadcast
 *       once. Plan: one task per chunk of the scored shards recovers the documents that start in it
 *       ({@link ShardDocuments}), counts each one (tokens, bytes, words; its group, {@link SourceGroups}: from its
 *       source in a format 2 shard, its shard folder for a format 1 shard) and cuts it into its forward-pass batches
 *       of {@code batch-size} rolling windows, one work item each, keyed by (chunk, document, batch). Score: the items,
 *       shuffled evenly over about {@link #SCORE_TASKS_PER_CORE} tasks per core, are scored with every model (taken
 *       from the executor's {@link ModelCache}) and every baseline; a task returns one NLL per scorer per item. So
 *       a long document is scored by many tasks at once: the unit of parallelism is the batch, not the document.</li>
 *   <li>The driver sorts the items by key, adds each document's batch NLLs in batch order and then the documents in
 *       (chunk, document) order (so the sums are the same for any partitioning and task order), totals and groups
 *       separately (the totals are the sums of the documents, not of the groups), caps the groups at
 *       {@code per-source.max-groups} and destroys the broadcasts.</li>
 * </ol>
 */
public final class Evaluation {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluation.class);
    private static final ConcurrentHashMap<String, BpeTokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private Evaluation() {
    }

    /** Rows {@code [firstRow, firstRow + rows)} of one shard: a plan task's share of the stream. */
    public record Chunk(int index, int shardSet, String shard, long firstRow, long rows) implements Serializable {
    }

    /** What a document counts for (taken once, from the whole document), and how many batches it was cut into. */
    record DocumentPlan(String group, DocumentScorer.Counts counts, int batches) implements Serializable {
    }

    /**
     * One forward-pass batch of one document: the document's {@code ordinal} among those its chunk owns, the batch's
     * within the document, and its windows (a copy: a serializable list). Batch 0 carries the document's plan.
     */
    record Item(int chunk, int ordinal, int batch, int shardSet, List<RollingWindows.Window> windows, DocumentPlan document)
            implements Serializable {
    }

    /** A scored {@link Item}: its NLL per scorer (checkpoints, then baselines) and the score task (partition) that scored it. */
    record ItemResult(int chunk, int ordinal, int batch, int shardSet, double[] nll, DocumentPlan document, int task)
            implements Serializable {
        static final Comparator<ItemResult> ORDER = Comparator.comparingInt(ItemResult::chunk)
                .thenComparingInt(ItemResult::ordinal).thenComparingInt(ItemResult::batch);
    }

    /**
     * What was scored: per shard set, one {@link LmStats} per scorer (checkpoints first, then baselines), and the same
     * per source group ({@code perSource.get(set)}, capped by {@link SourceGroups#cap}). {@code tasks}: plan tasks (one
     * per chunk); {@code batches}: forward-pass batches scored (per scorer); {@code scoreTasks}: the score tasks that
     * scored them; {@code widestDocumentTasks}: the score tasks that shared the document with the most batches.
     */
    public record Result(String runId, List<String> scorers, int checkpoints, List<List<LmStats>> perShardSet,
                         List<SourceGroups.Capped> perSource, NgramCounts counts, KneserNeyBigram bigram, long rows, int tasks,
                         double scoringSeconds, long batches, int scoreTasks, int widestDocumentTasks) {
    }

    /** Baselines, then scoring, then the sums: the three steps of the class comment. */
    public static Result run(SparkSession spark, EvaluateConfig cfg, Inputs.Checked in) throws IOException {
        SerializableConfiguration hadoop = new SerializableConfiguration(spark.sparkContext().hadoopConfiguration());
        String runId = UUID.randomUUID().toString();
        Baselines baselines = fitBaselines(spark, cfg, in, hadoop);
        Scored scored = score(spark, cfg, in, hadoop, runId, baselines.scorers());
        return sum(cfg, in, runId, baselines, scored);
    }

    /**
     * The fitted baselines and every scorer's name (checkpoints first, then baselines); {@code counts} and
     * {@code bigram} are null when there are no baselines (or no bigram) to report.
     */
    private record Baselines(List<NgramScorer> scorers, List<String> names, NgramCounts counts, KneserNeyBigram bigram) {
    }

    /** 1. Baselines, counted on the train split of the same shard folders. */
    private static Baselines fitBaselines(SparkSession spark, EvaluateConfig cfg, Inputs.Checked in,
                                          SerializableConfiguration hadoop) throws IOException {
        List<NgramScorer> baselines = new ArrayList<>();
        List<String> names = new ArrayList<>();
        in.checkpoints().forEach(c -> names.add(c.name()));
        if (cfg.baselines().isEmpty()) {
            return new Baselines(baselines, names, null, null);
        }
        NgramCounts counts = countNgrams(spark, in, hadoop, cfg.blocksPerTask());
        KneserNeyBigram bigram = null;
        for (EvaluateConfig.Baseline b : cfg.baselines()) {
            switch (b) {
                case UNIFORM -> baselines.add(new NgramScorer.Uniform(in.vocabSize()));
                case UNIGRAM -> baselines.add(new NgramScorer.UnigramAddOne(counts));
                case BIGRAM -> {
                    bigram = new KneserNeyBigram(counts, cfg.bigramDiscount());
                    baselines.add(bigram);
                }
            }
            names.add(b.key());
        }
        return new Baselines(baselines, names, counts, bigram);
    }

    /**
     * What the scoring job returned: the chunks it planned, one result per item, its wall time, the score tasks it
     * asked for and the rows the manifests list (for the log).
     */
    private record Scored(List<Chunk> chunks, List<ItemResult> results, double seconds, int scoreTasks, long manifestRows) {
    }

    /**
     * 2. Scoring, in one job of two stages. Plan: one task per chunk recovers the chunk's documents and cuts each into
     * its forward-pass batches (work items). Score: the items, shuffled evenly over the score tasks, are scored with
     * every model and baseline. The unit of parallelism is the batch, not the document, so a few long documents still
     * feed every core. The broadcasts are destroyed and the executors' models evicted however the job ends.
     */
    private static Scored score(SparkSession spark, EvaluateConfig cfg, Inputs.Checked in, SerializableConfiguration hadoop,
                                String runId, List<NgramScorer> baselines) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Chunk> chunks = chunks(in, hadoop, Math.max(1, cfg.tokensPerTask() / in.contextLength()), 0, false);
        long totalTokens = in.shardSets().stream().flatMap(s -> s.scored().stream()).mapToLong(ShardInfo::tokens).sum();
        long totalRows = in.shardSets().stream().flatMap(s -> s.scored().stream()).mapToLong(ShardInfo::rows).sum();
        long totalDocuments = in.shardSets().stream().flatMap(s -> s.scored().stream()).mapToLong(ShardInfo::documents).sum();
        int scoreTasks = scoreTasks(totalTokens, totalDocuments, in.contextLength(), cfg.batchSize(), sc.defaultParallelism());
        Broadcast<List<byte[]>> models = sc.broadcast(new ArrayList<>(in.checkpoints().stream().map(Inputs.CheckpointInput::modelBytes).toList()));
        Broadcast<List<NgramScorer>> baselineModels = sc.broadcast(baselines);
        Broadcast<String> tokenizerJson = sc.broadcast(in.tokenizerJson());
        LongAccumulator scoredTokens = sc.sc().longAccumulator("kiln evaluate: tokens scored");
        List<String> unknownSource = new ArrayList<>(in.shardSets().stream().map(set -> set.dir().toString()).toList());
        PlanTask plan = new PlanTask(hadoop, in.contextLength(), in.endOfText(), cfg.batchSize(), in.tokenizerSha256(), tokenizerJson,
                cfg.perSource(), unknownSource);
        ScoreTask score = new ScoreTask(runId, in.contextLength(), in.endOfText(), cfg.batchSize(), in.checkpoints().size(),
                models, baselineModels, scoredTokens);
        SparkStages.stage(spark, "evaluate", "score " + in.checkpoints().size() + " checkpoint(s) and " + baselines.size()
                + " baseline(s) on " + chunks.size() + " chunk(s) of split " + cfg.split() + ", batches spread over "
                + scoreTasks + " score task(s)");
        Progress progress = new Progress("evaluate: score " + cfg.split() + " (records = tokens)", totalTokens, -1, 10, TimeUnit.SECONDS);
        long start = System.nanoTime();
        List<ItemResult> results;
        try (Poller ignored = poll(scoredTokens, progress)) {
            results = new ArrayList<>(sc.parallelize(chunks, Math.max(1, chunks.size())).flatMap(plan)
                    .repartition(scoreTasks).mapPartitions(score).collect());
        } finally {
            models.destroy();
            baselineModels.destroy();
            tokenizerJson.destroy();
            ModelCache.evict(runId);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        progress.done();
        return new Scored(chunks, results, seconds, scoreTasks, totalRows);
    }

    /**
     * 3. Sums in key order: each document's batches in batch order, then the documents in (chunk, ordinal) order,
     * so the numbers do not depend on the partitioning, the score tasks or their order; then the groups capped.
     */
    private static Result sum(EvaluateConfig cfg, Inputs.Checked in, String runId, Baselines baselines, Scored scored) {
        List<String> names = baselines.names();
        List<ItemResult> results = scored.results();
        results.sort(ItemResult.ORDER);
        List<ScoreSums> sums = new ArrayList<>();
        for (int s = 0; s < in.shardSets().size(); s++) {
            sums.add(new ScoreSums(names.size()));
        }
        Widest widest = addDocuments(results, names.size(), sums);
        long rows = scored.chunks().stream().mapToLong(Chunk::rows).sum();
        List<List<LmStats>> perSet = new ArrayList<>();
        List<SourceGroups.Capped> perSource = new ArrayList<>();
        for (int s = 0; s < in.shardSets().size(); s++) {
            perSet.add(sums.get(s).stats());
            SourceGroups.Capped c = cfg.perSource().cap(sums.get(s).groupStats());
            perSource.add(c);
            LOG.info(String.format(Locale.ROOT, "[evaluate] %s: %d source group(s) (group-by %s)%s", in.shardSets().get(s).dir(),
                    c.found(), cfg.perSource().groupBy().key(), c.folded() > 0 ? ", " + c.folded() + " summed into " + SourceGroups.OTHER : ""));
        }
        int usedTasks = (int) results.stream().mapToInt(ItemResult::task).distinct().count();
        long tokens = perSet.stream().mapToLong(l -> l.get(0).tokens()).sum();
        double seconds = scored.seconds();
        LOG.info(String.format(Locale.ROOT, "[evaluate] %,d batch(es) of %,d document(s) scored in %d of %d score task(s); "
                        + "the widest document's %d batch(es) in %d task(s)", results.size(), widest.documents(), usedTasks,
                scored.scoreTasks(), widest.batches(), widest.tasks()));
        LOG.info(String.format(Locale.ROOT, "[evaluate] scored %,d rows (%,d in the manifests), %,d tokens with %d model(s) in %s: %,.0f tokens/s",
                rows, scored.manifestRows(), tokens, names.size(), Progress.duration(seconds), tokens / Math.max(seconds, 1e-9)));
        return new Result(runId, List.copyOf(names), in.checkpoints().size(), perSet, List.copyOf(perSource), baselines.counts(),
                baselines.bigram(), rows, scored.chunks().size(), seconds, results.size(), usedTasks, widest.tasks());
    }

    /**
     * Score tasks: about {@link #SCORE_TASKS_PER_CORE} per core, so that uneven batches (a document's last one is short)
     * still even out, but never more than there can be batches. The sums do not depend on it, so it may follow the
     * cluster's size (the chunks may not: see {@link #chunks}). Batches are at most one per document plus one per
     * {@code batchSize * T} tokens.
     */
    static int scoreTasks(long tokens, long documents, int contextLength, int batchSize, int cores) {
        long maxBatches = documents + tokens / ((long) contextLength * batchSize) + 1;
        return (int) Math.max(1, Math.min(maxBatches, (long) Math.max(1, cores) * SCORE_TASKS_PER_CORE));
    }

    static final int SCORE_TASKS_PER_CORE = 4;

    /** The document with the most batches (the first such): its batches, and the score tasks they ran in; and the documents. */
    record Widest(long documents, int batches, int tasks) {
    }

    /**
     * Adds the scored batches, sorted by {@link ItemResult#ORDER}, into {@code sums} (one per shard set): each document's
     * batch NLLs in batch order into the document's NLL, then the document into its shard set's totals and group. A
     * document whose batches are not all there (0 to the count its plan gave) is an error.
     */
    static Widest addDocuments(List<ItemResult> sorted, int scorers, List<ScoreSums> sums) {
        long documents = 0;
        int widestBatches = 0;
        int widestTasks = 0;
        for (int i = 0; i < sorted.size(); ) {
            ItemResult first = sorted.get(i);
            DocumentPlan doc = first.document();
            if (first.batch() != 0 || doc == null) {
                throw new IllegalStateException("chunk " + first.chunk() + ", document " + first.ordinal()
                        + ": expected its batch 0 (which carries the document's counts), got batch " + first.batch());
            }
            double[] nll = new double[scorers];
            Set<Integer> tasks = new HashSet<>();
            for (int b = 0; b < doc.batches(); b++, i++) {
                ItemResult r = i < sorted.size() ? sorted.get(i) : null;
                if (r == null || r.chunk() != first.chunk() || r.ordinal() != first.ordinal() || r.batch() != b) {
                    throw new IllegalStateException("chunk " + first.chunk() + ", document " + first.ordinal() + ": expected "
                            + doc.batches() + " scored batches, batch " + b + " is missing");
                }
                for (int s = 0; s < scorers; s++) {
                    nll[s] += r.nll()[s];
                }
                tasks.add(r.task());
            }
            sums.get(first.shardSet()).add(nll, doc.counts(), doc.group());
            documents++;
            if (doc.batches() > widestBatches) {
                widestBatches = doc.batches();
                widestTasks = tasks.size();
            }
        }
        return new Widest(documents, widestBatches, widestTasks);
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

    /**
     * The plan stage: one chunk's documents, each cut into its forward-pass batches ({@link DocumentScorer#batches}),
     * with the document's group and counts on its batch 0. Cheap: no model is run here.
     */
    static final class PlanTask implements FlatMapFunction<Chunk, Item> {
        private final SerializableConfiguration hadoop;
        private final int contextLength;
        private final int endOfText;
        private final int batchSize;
        private final String tokenizerSha256;
        private final Broadcast<String> tokenizerJson;
        private final SourceGroups perSource;
        private final List<String> unknownSource;

        PlanTask(SerializableConfiguration hadoop, int contextLength, int endOfText, int batchSize, String tokenizerSha256,
                 Broadcast<String> tokenizerJson, SourceGroups perSource, List<String> unknownSource) {
            this.hadoop = hadoop;
            this.contextLength = contextLength;
            this.endOfText = endOfText;
            this.batchSize = batchSize;
            this.tokenizerSha256 = tokenizerSha256;
            this.tokenizerJson = tokenizerJson;
            this.perSource = perSource;
            this.unknownSource = unknownSource;
        }

        @Override
        public Iterator<Item> call(Chunk chunk) throws IOException {
            BpeTokenizer tokenizer = TOKENIZERS.computeIfAbsent(tokenizerSha256, k -> TokenizerJson.read(tokenizerJson.value(), "tokenizer " + k));
            Path p = new Path(chunk.shard());
            Progress progress = new Progress("evaluate: plan " + p.getName() + " rows " + chunk.firstRow() + "+"
                    + chunk.rows() + " (records = documents)", -1, -1);
            SourceGroups.Grouper grouper = perSource.grouper();
            String unknown = unknownSource.get(chunk.shardSet()); // a format 1 shard's documents: their shard folder
            List<Item> items = new ArrayList<>();
            int[] ordinal = {0};
            try (ShardReader r = ShardReader.open(p.getFileSystem(hadoop.value()), p)) {
                ShardDocuments.forEachDocument(r, r.blockRows(), chunk.firstRow(), chunk.rows(), endOfText, (source, doc) -> {
                    List<List<RollingWindows.Window>> batches = DocumentScorer.batches(doc, contextLength, endOfText, batchSize);
                    DocumentScorer.Counts counts = DocumentScorer.Counts.of(doc, tokenizer::decodeBytes);
                    DocumentPlan plan = new DocumentPlan(source == null ? unknown : grouper.group(source), counts, batches.size());
                    for (int b = 0; b < batches.size(); b++) {
                        items.add(new Item(chunk.index(), ordinal[0], b, chunk.shardSet(), new ArrayList<>(batches.get(b)), b == 0 ? plan : null));
                    }
                    ordinal[0]++;
                    progress.add(1, counts.bytes());
                });
            }
            progress.done();
            return items.iterator();
        }
    }

    /**
     * The score stage: one task's share of the batches, each scored with every model and baseline; one NLL per scorer
     * per batch ({@link DocumentScorer#batchNll}). Models come from the executor's {@link ModelCache}, borrowed for the
     * whole task.
     */
    static final class ScoreTask implements FlatMapFunction<Iterator<Item>, ItemResult> {
        private final String runId;
        private final int contextLength;
        private final int endOfText;
        private final int batchSize;
        private final int checkpoints;
        private final Broadcast<List<byte[]>> models;
        private final Broadcast<List<NgramScorer>> baselines;
        private final LongAccumulator scoredTokens;

        ScoreTask(String runId, int contextLength, int endOfText, int batchSize, int checkpoints, Broadcast<List<byte[]>> models,
                  Broadcast<List<NgramScorer>> baselines, LongAccumulator scoredTokens) {
            this.runId = runId;
            this.contextLength = contextLength;
            this.endOfText = endOfText;
            this.batchSize = batchSize;
            this.checkpoints = checkpoints;
            this.models = models;
            this.baselines = baselines;
            this.scoredTokens = scoredTokens;
        }

        @Override
        public Iterator<ItemResult> call(Iterator<Item> items) {
            int task = TaskContext.getPartitionId();
            List<ComputationGraph> borrowed = new ArrayList<>();
            List<TokenScorer> scorers = new ArrayList<>();
            List<ItemResult> out = new ArrayList<>();
            try {
                for (int i = 0; i < checkpoints; i++) {
                    int index = i;
                    ComputationGraph g = ModelCache.borrow(runId, Integer.toString(i), () -> restore(models.value().get(index)));
                    borrowed.add(g);
                    scorers.add(new ModelScorer(g, batchSize, contextLength, endOfText));
                }
                scorers.addAll(baselines.value());
                double[][] logProbs = DocumentScorer.logProbs(batchSize, contextLength);
                Progress progress = new Progress("evaluate: score task " + task + " (records = batches)", -1, -1);
                while (items.hasNext()) {
                    Item item = items.next();
                    double[] nll = new double[scorers.size()];
                    for (int s = 0; s < scorers.size(); s++) {
                        nll[s] = DocumentScorer.batchNll(scorers.get(s), item.windows(), logProbs);
                    }
                    long tokens = item.windows().stream().mapToLong(RollingWindows.Window::scored).sum();
                    out.add(new ItemResult(item.chunk(), item.ordinal(), item.batch(), item.shardSet(), nll, item.document(), task));
                    scoredTokens.add(tokens);
                    progress.add(1, 0);
                }
                progress.done();
                return out.iterator();
            } finally {
                for (int i = 0; i < borrowed.size(); i++) {
                    ModelCache.release(runId, Integer.toString(i), borrowed.get(i));
                }
            }
        }
    }

    static ComputationGraph restore(byte[] bytes) {
        try {
            return GptModel.tie(ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), false));
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
                    long total = Arrays.stream(blockRows).sum();
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
