package dev.kiln.tokenize;

import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.io.InputPaths;
import dev.kiln.common.io.MissingInputException;
import dev.kiln.common.log.Progress;
import dev.kiln.common.spark.SparkStages;
import dev.kiln.documents.RunManifest;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenCounts;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.not;

/**
 * {@code kiln tokenize}: documents (Parquet with {@code hash} and {@code text}) to a tokenizer and packed token shards.
 *
 * <ol>
 *   <li>The input: for a {@code kiln preprocess} output, the committed runs the manifest does not list yet (their
 *       manifests name the Parquet files); for a plain folder or glob of Parquet files, the files the manifest does not
 *       list. Nothing new: stop.</li>
 *   <li>Tokenizer: the output's own on incremental runs, else {@code tokenizer.path}, else trained here: pre-tokens
 *       counted on the executors, merges learned on the driver ({@link BpeTrainer}).</li>
 *   <li>Per split (by {@link DocumentSplit}): repartition by document hash, sort within partitions, and let each task
 *       write one shard ({@link ShardPacking}); shards are committed by rename, so a failed task leaves nothing.</li>
 *   <li>Append runs, inputs and shards to {@code manifest.json} (atomic replace): the run is visible only once complete.</li>
 * </ol>
 */
public final class Tokenize {
    private static final Logger LOG = LoggerFactory.getLogger(Tokenize.class);
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String SHARDS_DIR = "shards";
    static final String SUCCESS = "_SUCCESS";
    /** The documents' source column, kept through to the shards. */
    private static final String SOURCE = "source";
    private static final String METADATA = "metadata";
    private static final String LANGUAGE = "language";
    private static final long BYTES_PER_SHARD = 64L << 20;

    private Tokenize() {
    }

    /** What a run did. {@code upToDate}: nothing new was found and nothing was written. */
    public record Result(boolean upToDate, int run, int newInputs, List<ShardInfo> newShards, Manifest manifest) {
        public long documents() {
            return newShards.stream().mapToLong(ShardInfo::documents).sum();
        }

        public long tokens(String split) {
            return newShards.stream().filter(s -> s.split().equals(split)).mapToLong(s -> s.tokens() + s.droppedTokens()).sum();
        }
    }

    /**
     * What a run would tokenize, from the driver alone (manifests and listings; nothing written): the output and its
     * manifest, and the new preprocess runs or Parquet files. {@code fresh} is empty when there is nothing new.
     */
    public record Plan(Path output, Manifest previous, int preprocessRuns, List<Manifest.InputFile> fresh,
                       List<Manifest.PreprocessRun> freshRuns, int alreadyTokenized) {
        public boolean upToDate() {
            return fresh.isEmpty();
        }

        /** A human-readable report: the runs or files a run would tokenize, with their sizes. */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            sb.append("  output: ").append(output).append(previous == null ? " (new)" : " (incremental: "
                    + previous.shards().size() + " shard(s) so far)").append('\n');
            if (upToDate()) {
                sb.append("  nothing new: all ").append(alreadyTokenized).append(preprocessRuns > 0 ? " preprocess run(s)" : " input file(s)")
                        .append(" are already tokenized; a run would write nothing and exit 0\n");
                return sb.toString();
            }
            if (!freshRuns.isEmpty()) {
                sb.append("  would tokenize ").append(freshRuns.size()).append(" new preprocess run(s) (")
                        .append(alreadyTokenized).append(" already tokenized):\n");
                for (Manifest.PreprocessRun r : freshRuns) {
                    sb.append("    ").append(RunManifest.runName(r.run())).append("  ").append(r.documents()).append(" documents\n");
                }
            }
            sb.append("  ").append(fresh.size()).append(" Parquet file(s), ")
                    .append(Progress.human(fresh.stream().mapToLong(Manifest.InputFile::size).sum())).append(":\n");
            for (Manifest.InputFile f : fresh) {
                sb.append("    ").append(f.path()).append("  ").append(Progress.human(f.size())).append('\n');
            }
            sb.append(previous == null ? "  would train a tokenizer (or load kiln.tokenize.tokenizer.path) and write shards\n"
                    : "  would reuse " + new Path(output, previous.tokenizer()) + "\n");
            return sb.toString();
        }
    }

    public static Plan plan(TokenizeConfig cfg, Configuration hadoop) throws IOException {
        Path outDir = new Path(cfg.output());
        FileSystem outFs = outDir.getFileSystem(hadoop);
        outDir = outFs.makeQualified(outDir);
        Manifest previous = Manifest.readIfExists(outFs, outDir).orElse(null);
        Path inDir = new Path(cfg.input());
        FileSystem inFs = inDir.getFileSystem(hadoop);
        List<RunManifest.Committed> runs = inFs.isDirectory(inDir) ? RunManifest.readAll(inFs, inFs.makeQualified(inDir)) : List.of();
        if (!runs.isEmpty()) {
            // A preprocess output: follow its runs, so re-written part files can never be tokenized twice.
            List<RunManifest.Committed> newRuns = newRuns(runs, previous, cfg.input(), outDir);
            List<Manifest.InputFile> fresh = newRuns.isEmpty() ? List.of() : runFiles(inFs, inFs.makeQualified(inDir), newRuns);
            List<Manifest.PreprocessRun> freshRuns = newRuns.stream()
                    .map(c -> new Manifest.PreprocessRun(c.run(), c.sha256(), c.manifest().documents())).toList();
            return new Plan(outDir, previous, runs.size(), fresh, freshRuns, runs.size() - newRuns.size());
        }
        if (previous != null && !previous.preprocessRuns().isEmpty()) {
            throw new IllegalStateException("kiln.tokenize.input " + cfg.input() + " holds no committed preprocess runs, but "
                    + outDir + " was tokenized from preprocess runs " + previous.preprocessRuns().stream().map(Manifest.PreprocessRun::run).toList()
                    + "; point kiln.tokenize.input at that preprocess output, or write to a new kiln.tokenize.output");
        }
        List<Manifest.InputFile> inputs = listInputs(cfg.input(), hadoop);
        List<Manifest.InputFile> fresh = newInputs(inputs, previous, outDir);
        return new Plan(outDir, previous, 0, fresh, List.of(), inputs.size() - fresh.size());
    }

    /** {@code lineage}: recorded in a new output's manifest.json (its config and lineage). */
    public static Result run(SparkSession spark, TokenizeConfig cfg, Lineage lineage) throws IOException {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        // 1. The input: what no earlier run into this output tokenized.
        Plan plan = plan(cfg, hadoop);
        Path outDir = plan.output();
        FileSystem outFs = outDir.getFileSystem(hadoop);
        Manifest previous = plan.previous();
        List<Manifest.InputFile> fresh = plan.fresh();
        if (plan.upToDate()) {
            LOG.info("kiln tokenize: nothing new to tokenize: all {} {} of {} are already in {}; nothing written",
                    plan.alreadyTokenized(), plan.preprocessRuns() > 0 ? "preprocess run(s)" : "input files", cfg.input(),
                    new Path(outDir, Manifest.FILE_NAME));
            return new Result(true, 0, 0, List.of(), previous);
        }
        logPlan(cfg, plan);
        long freshBytes = fresh.stream().mapToLong(Manifest.InputFile::size).sum();
        LOG.info("kiln tokenize: tokenizing {} of Parquet", Progress.human(freshBytes));
        Splits splits = Splits.of(readDocuments(spark, fresh, cfg.source()), cfg.validationFraction());

        // 2. The tokenizer: the output's own (shards must share one), a given file, or trained on the train split.
        String json = tokenizerJson(spark, cfg, hadoop, previous, outDir, splits.train());
        BpeTokenizer tokenizer = TokenizerJson.read(json, previous != null ? new Path(outDir, TOKENIZER_FILE).toString()
                : cfg.tokenizerPath() != null ? cfg.tokenizerPath() : "trained tokenizer");
        String sha = FileHashes.sha256(json);
        int eot = tokenizer.specialTokenId(cfg.endOfText());
        if (previous == null) {
            AtomicOutput.writeString(outFs, new Path(outDir, TOKENIZER_FILE), json);
        }

        // 3. The shards of each split, written by the tasks.
        int run = previous == null ? 1 : ShardName.nextRun(previous.shards());
        removeLeftovers(outFs, outDir, run, previous);
        int trainShards = cfg.shards() > 0 ? cfg.shards() : (int) Math.max(1, (freshBytes + BYTES_PER_SHARD - 1) / BYTES_PER_SHARD);
        List<ShardInfo> written = writeShards(spark, cfg, hadoop, outDir, json, sha, tokenizer, eot, run, splits, trainShards);

        // 4. The manifest, replaced atomically, makes the run visible.
        Manifest base = previous != null ? previous : new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), TOKENIZER_FILE, sha,
                tokenizer.vocabSize(), cfg.contextLength(), tokenizer.specialTokenIds(), lineage.config(),
                List.of(), List.of(), List.of(), lineage.toJson());
        Manifest manifest = base.append(fresh, written, plan.freshRuns());
        manifest.write(outFs, outDir);
        // The Hadoop convention for "this output is complete" (the manifest, written last, is Kiln's own).
        AtomicOutput.writeBytes(outFs, new Path(outDir, SUCCESS), new byte[0]);
        Result result = new Result(false, run, fresh.size(), List.copyOf(written), manifest);
        LOG.info(String.format(Locale.ROOT, "kiln tokenize: run %d wrote %d shard(s): %,d documents, %,d train tokens, %,d validation tokens "
                        + "(%,d tokens in the output now) to %s", run, written.size(), result.documents(), result.tokens(ShardSchema.TRAIN),
                result.tokens(ShardSchema.VALIDATION), manifest.tokens(ShardSchema.TRAIN) + manifest.tokens(ShardSchema.VALIDATION), outDir));
        return result;
    }

    private static void logPlan(TokenizeConfig cfg, Plan plan) {
        List<Manifest.PreprocessRun> freshRuns = plan.freshRuns();
        if (!freshRuns.isEmpty()) {
            LOG.info("kiln tokenize: {} new preprocess run(s) {} of {}: {} file(s), {} documents ({} run(s) already tokenized)",
                    freshRuns.size(), freshRuns.stream().map(r -> RunManifest.runName(r.run())).toList(), cfg.input(), plan.fresh().size(),
                    freshRuns.stream().mapToLong(Manifest.PreprocessRun::documents).sum(), plan.alreadyTokenized());
        } else {
            LOG.info("kiln tokenize: {} new input file(s) ({} already tokenized)", plan.fresh().size(), plan.alreadyTokenized());
        }
    }

    /** The documents of a run split by {@link DocumentSplit} (lazily: each split is read when it is written). */
    private record Splits(Dataset<Row> train, Dataset<Row> validation, double validationFraction) {
        static Splits of(Dataset<Row> docs, double fraction) {
            UserDefinedFunction isValidation = org.apache.spark.sql.functions.udf(
                    (UDF1<String, Boolean>) h -> DocumentSplit.isValidation(h, fraction), DataTypes.BooleanType);
            return new Splits(docs.filter(not(isValidation.apply(col("hash")))), docs.filter(isValidation.apply(col("hash"))), fraction);
        }
    }

    /** tokenizer.json's text: the output's own on incremental runs, else tokenizer.path, else trained on {@code train}. */
    private static String tokenizerJson(SparkSession spark, TokenizeConfig cfg, Configuration hadoop, Manifest previous, Path outDir,
                                        Dataset<Row> train) throws IOException {
        if (previous != null) {
            String json = readString(outDir.getFileSystem(hadoop), new Path(outDir, previous.tokenizer()));
            checkCompatible(previous, cfg, json, outDir);
            return json;
        }
        if (cfg.tokenizerPath() != null) {
            Path p = new Path(cfg.tokenizerPath());
            return readString(p.getFileSystem(hadoop), p);
        }
        return TokenizerJson.write(train(spark, train, cfg));
    }

    /**
     * Per split: repartition by document hash, sort within partitions, and let each task pack and commit one shard
     * ({@link ShardPacking}; {@code eot}: the end-of-text id appended after every document). The validation split gets max(1, ceil(trainShards * fraction)) shards, none when the
     * fraction is 0. Returns the shards sorted by path within each split, train first.
     */
    private static List<ShardInfo> writeShards(SparkSession spark, TokenizeConfig cfg, Configuration hadoop, Path outDir, String json,
                                               String sha, BpeTokenizer tokenizer, int eot, int run, Splits splits, int trainShards) {
        double fraction = splits.validationFraction();
        int validationShards = (int) Math.max(1, Math.ceil(trainShards * fraction));
        List<ShardInfo> written = new ArrayList<>();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<String> jsonBroadcast = jsc.broadcast(json);
        SerializableConfiguration hadoopConf = new SerializableConfiguration(hadoop);
        for (String split : List.of(ShardSchema.TRAIN, ShardSchema.VALIDATION)) {
            if (split.equals(ShardSchema.VALIDATION) && fraction == 0) {
                continue;
            }
            Dataset<Row> part = split.equals(ShardSchema.TRAIN) ? splits.train() : splits.validation();
            int n = split.equals(ShardSchema.TRAIN) ? trainShards : validationShards;
            SparkStages.stage(spark, "tokenize", "encode and write " + n + " " + split + " shard(s)");
            ShardSchema.Header header = new ShardSchema.Header(cfg.contextLength(), tokenizer.vocabSize(), sha, split);
            String outUri = outDir.toString();
            boolean specialInText = cfg.specialTokensInText();
            // Hash partitioning + sort: the same documents give the same shards whatever the input file layout.
            // The source only breaks ties between equal (hash, text) pairs, so token ids and shards do not depend on it.
            JavaRDD<ShardPacking.SourcedText> docs = part.repartition(n, col("hash")).sortWithinPartitions("hash", "text", SOURCE)
                    .select(SOURCE, "text").javaRDD().map(r -> new ShardPacking.SourcedText(r.getString(0), r.getString(1)));
            List<ShardInfo> shards = docs.mapPartitionsWithIndex((index, it) -> {
                if (!it.hasNext()) {
                    return List.<ShardInfo>of().iterator();
                }
                BpeTokenizer tok = TokenizerCache.get(sha, jsonBroadcast.value());
                Path dir = new Path(outUri);
                FileSystem fs = dir.getFileSystem(hadoopConf.value());
                String rel = new ShardName(split, run, index).relativePath();
                return List.of(ShardPacking.pack(it, tok, header, eot, specialInText, fs, dir, rel)).iterator();
            }, false).collect();
            List<ShardInfo> sorted = new ArrayList<>(shards);
            sorted.sort(Comparator.comparing(ShardInfo::path));
            written.addAll(sorted);
        }
        jsonBroadcast.destroy();
        return written;
    }

    /** Pre-tokens counted per partition on the executors, summed by key; merges learned on the driver. */
    static BpeTokenizer train(SparkSession spark, Dataset<Row> trainDocs, TokenizeConfig cfg) {
        SparkStages.stage(spark, "tokenize", "count pre-tokens for BPE training");
        PreTokenizer pre = cfg.preTokenizer();
        long start = System.nanoTime();
        Map<String, Long> counts = new HashMap<>(trainDocs.select("text").as(Encoders.STRING()).javaRDD()
                .mapPartitionsToPair(it -> {
                    PreTokenCounts local = new PreTokenCounts(pre);
                    it.forEachRemaining(local::add);
                    List<Tuple2<String, Long>> out = new ArrayList<>(local.distinct());
                    local.forEach((k, v) -> out.add(new Tuple2<>(k, v)));
                    return out.iterator();
                })
                .reduceByKey(Long::sum)
                .collectAsMap());
        LOG.info("kiln tokenize: {} distinct pre-tokens counted in {}; learning merges up to vocabulary {}", counts.size(),
                Progress.duration((System.nanoTime() - start) / 1e9), cfg.vocabSize());
        long t = System.nanoTime();
        BpeTokenizer tok = BpeTrainer.train(counts, pre, cfg.vocabSize(), cfg.specialTokens(), cfg.minFrequency(),
                merges -> LOG.info("kiln tokenize: {} merges learned", merges));
        LOG.info("kiln tokenize: tokenizer trained: vocabulary {} ({} merges) in {}{}", tok.vocabSize(), tok.mergeCount(),
                Progress.duration((System.nanoTime() - t) / 1e9), tok.vocabSize() < cfg.vocabSize()
                        ? " (stopped early: no pair occurs " + cfg.minFrequency() + " times)" : "");
        return tok;
    }

    /** Parquet files under the input (the folder preprocess wrote, a folder of Parquet files, or a glob), sorted by path. */
    static List<Manifest.InputFile> listInputs(String input, Configuration hadoop) throws IOException {
        Path in = new Path(input);
        FileSystem fs = in.getFileSystem(hadoop);
        Path documents = new Path(in, "documents");
        if (fs.isDirectory(in) && fs.isDirectory(documents)) {
            in = documents;
        }
        // Hidden and staging names anywhere below the matched path are skipped (Spark's _temporary, .crc files).
        List<Manifest.InputFile> out = new ArrayList<>();
        for (FileStatus st : InputPaths.expand(in, hadoop).files()) {
            if (st.isFile() && st.getPath().getName().endsWith(".parquet")) {
                out.add(new Manifest.InputFile(st.getPath().toString(), st.getLen(), st.getModificationTime()));
            }
        }
        if (out.isEmpty()) {
            throw new MissingInputException("kiln.tokenize.input: no Parquet files found at " + input
                    + " (expected the folder `kiln preprocess` wrote, or *.parquet files)");
        }
        out.sort(Comparator.comparing(Manifest.InputFile::path));
        return out;
    }

    /**
     * The preprocess runs the manifest does not list yet, in run order. Every run it lists must still be committed
     * with the same manifest hash: the run's documents are already in the shards, so a rewritten run (e.g. a
     * reprocessed output) or a vanished one is an error naming it, never tokenized again.
     */
    static List<RunManifest.Committed> newRuns(List<RunManifest.Committed> runs, Manifest previous, String input, Path outDir) {
        if (previous == null) {
            return runs;
        }
        if (previous.preprocessRuns().isEmpty() && !previous.inputs().isEmpty()) {
            throw new IllegalStateException(outDir + " was tokenized from Parquet files, not from preprocess runs, and "
                    + "kiln.tokenize.input " + input + " is a preprocess output with runs; write to a new kiln.tokenize.output");
        }
        Map<Integer, RunManifest.Committed> byRun = new HashMap<>();
        runs.forEach(c -> byRun.put(c.run(), c));
        Set<Integer> done = new HashSet<>();
        for (Manifest.PreprocessRun r : previous.preprocessRuns()) {
            RunManifest.Committed now = byRun.get(r.run());
            String name = RunManifest.runName(r.run());
            if (now == null) {
                throw new IllegalStateException("preprocess run " + name + " of " + input + " was tokenized into " + outDir
                        + " but no longer exists there; its tokens are already in the shards. Write to a new kiln.tokenize.output");
            }
            if (!now.sha256().equals(r.manifestSha256())) {
                throw new IllegalStateException("preprocess run " + name + " of " + input + " was rewritten since it was tokenized into "
                        + outDir + " (manifest SHA-256 " + r.manifestSha256() + " -> " + now.sha256() + ", e.g. by --reprocess); its "
                        + "old tokens are already in the shards. Write to a new kiln.tokenize.output, or delete " + outDir + " to start over");
            }
            done.add(r.run());
        }
        return runs.stream().filter(c -> !done.contains(c.run())).toList();
    }

    /** The Parquet files the runs' manifests list, each checked to be there with the size the manifest recorded. */
    static List<Manifest.InputFile> runFiles(FileSystem fs, Path preprocessOut, List<RunManifest.Committed> runs) throws IOException {
        List<Manifest.InputFile> out = new ArrayList<>();
        for (RunManifest.Committed c : runs) {
            for (RunManifest.FileEntry f : c.manifest().documentFiles()) {
                Path p = new Path(preprocessOut, f.path());
                FileStatus st = fs.exists(p) ? fs.getFileStatus(p) : null;
                if (st == null || st.getLen() != f.size()) {
                    throw new IllegalStateException("preprocess run " + RunManifest.runName(c.run()) + " of " + preprocessOut + " lists "
                            + f.path() + " (" + f.size() + " bytes), which " + (st == null ? "does not exist" : "has " + st.getLen() + " bytes")
                            + "; the preprocess output is damaged");
                }
                out.add(new Manifest.InputFile(p.toString(), f.size(), st.getModificationTime()));
            }
        }
        return out;
    }

    /** Inputs the manifest does not list. A listed file whose size or mtime changed is an error: its tokens are already in shards. */
    static List<Manifest.InputFile> newInputs(List<Manifest.InputFile> inputs, Manifest previous, Path outDir) {
        if (previous == null) {
            return inputs;
        }
        Map<String, Manifest.InputFile> known = new HashMap<>();
        previous.inputs().forEach(f -> known.put(f.path(), f));
        List<Manifest.InputFile> fresh = new ArrayList<>();
        for (Manifest.InputFile f : inputs) {
            Manifest.InputFile k = known.get(f.path());
            if (k == null) {
                fresh.add(f);
            } else if (k.size() != f.size() || k.modificationTime() != f.modificationTime()) {
                throw new IllegalStateException("input " + f.path() + " changed since it was tokenized into " + outDir
                        + " (size " + k.size() + " -> " + f.size() + ", mtime " + k.modificationTime() + " -> " + f.modificationTime()
                        + "); its old tokens are already in the shards. Write to a new kiln.tokenize.output, or delete " + outDir + " to start over");
            }
        }
        return fresh;
    }

    private static void checkCompatible(Manifest previous, TokenizeConfig cfg, String json, Path outDir) {
        if (previous.contextLength() != cfg.contextLength()) {
            throw new IllegalStateException(outDir + " holds shards with context length " + previous.contextLength()
                    + ", kiln.tokenize.context-length is " + cfg.contextLength() + ": use a new output folder");
        }
        if (!FileHashes.sha256(json).equals(previous.tokenizerSha256())) {
            throw new IllegalStateException(new Path(outDir, TOKENIZER_FILE) + " does not match the SHA-256 in the manifest");
        }
    }

    private static Dataset<Row> readDocuments(SparkSession spark, List<Manifest.InputFile> files, TokenizeConfig.Source sourceKind) {
        String[] paths = files.stream().map(Manifest.InputFile::path).toArray(String[]::new);
        Dataset<Row> docs = spark.read().parquet(paths);
        Set<String> names = new HashSet<>(List.of(docs.schema().fieldNames()));
        for (String required : List.of("hash", "text")) {
            if (!names.contains(required)) {
                throw new IllegalArgumentException("kiln.tokenize.input: the documents have no column \"" + required + "\" (columns: "
                        + names + "); expected the Parquet `kiln preprocess` writes (id, source, text, metadata, hash, cluster_id)");
            }
            StructField f = docs.schema().apply(required);
            if (!f.dataType().equals(DataTypes.StringType)) {
                throw new IllegalArgumentException("kiln.tokenize.input: column \"" + required + "\" is " + f.dataType().simpleString() + ", expected string");
            }
        }
        // A document's source: kiln preprocess's `source` column (the input path), else the Parquet file it was read from;
        // with source = language, "language=<code>" from the metadata language identification wrote ("language=unknown"
        // without it), so evaluate's per-source results (group-by = file) come per language.
        Column fileName = input_file_name();
        Column source = names.contains(SOURCE) && docs.schema().apply(SOURCE).dataType().equals(DataTypes.StringType)
                ? coalesce(col(SOURCE), fileName) : fileName;
        if (sourceKind == TokenizeConfig.Source.LANGUAGE) {
            Column language = names.contains(METADATA) ? col(METADATA).getItem(LANGUAGE) : org.apache.spark.sql.functions.lit(null);
            source = org.apache.spark.sql.functions.concat(org.apache.spark.sql.functions.lit("language="),
                    coalesce(language, org.apache.spark.sql.functions.lit("unknown")));
        }
        Dataset<Row> selected = docs.select(col("hash"), col("text"), source.as(SOURCE));
        long nulls = selected.filter(col("text").isNull().or(col("hash").isNull())).count();
        if (nulls > 0) {
            LOG.warn("kiln tokenize: {} document(s) with a null text or hash skipped", nulls);
        }
        return selected.filter(col("text").isNotNull().and(col("hash").isNotNull()));
    }

    private static String readString(FileSystem fs, Path p) throws IOException {
        try (FSDataInputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Deletes shards of this run number that a crashed earlier attempt committed but never listed in the manifest. */
    private static void removeLeftovers(FileSystem fs, Path outDir, int run, Manifest previous) throws IOException {
        Set<String> listed = new HashSet<>();
        if (previous != null) {
            previous.shards().forEach(s -> listed.add(s.path()));
        }
        for (String split : List.of(ShardSchema.TRAIN, ShardSchema.VALIDATION)) {
            Path dir = new Path(new Path(outDir, SHARDS_DIR), split);
            if (!fs.isDirectory(dir)) {
                continue;
            }
            for (FileStatus st : fs.listStatus(dir)) {
                String rel = SHARDS_DIR + "/" + split + "/" + st.getPath().getName();
                boolean staging = st.getPath().getName().startsWith("_");
                if (!listed.contains(rel) && (staging || ShardName.runOf(rel).orElse(0) >= run)) {
                    LOG.info("kiln tokenize: removing {} left by an interrupted run", st.getPath());
                    fs.delete(st.getPath(), true);
                }
            }
        }
    }
}
