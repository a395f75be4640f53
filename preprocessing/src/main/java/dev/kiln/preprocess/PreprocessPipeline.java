package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.io.HadoopConf;
import dev.kiln.common.io.RunStatus;
import dev.kiln.common.log.Progress;
import dev.kiln.common.spark.SparkStages;
import dev.kiln.preprocess.PreprocessConfig.Keep;
import dev.kiln.preprocess.PreprocessStats.Counts;
import dev.kiln.preprocess.PreprocessStats.Flow;
import dev.kiln.preprocess.dedup.ClusterSizes;
import dev.kiln.preprocess.dedup.DedupIndex;
import dev.kiln.preprocess.dedup.ExactDuplicates;
import dev.kiln.preprocess.dedup.NearDuplicates;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputListing;
import dev.kiln.preprocess.runs.InputLedger;
import dev.kiln.preprocess.runs.RunManifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * {@code kiln preprocess} on Spark, one incremental run: list inputs and keep the files no earlier run read, read +
 * clean + filter (one pass, per document, in the tasks: {@link DocumentPass}), exact dedup ({@link ExactDuplicates}),
 * near dedup ({@link NearDuplicates}; both also against the {@link DedupIndex} of everything earlier runs kept), write
 * ({@link DocumentsWriter}, the index snapshot, quarantine, {@link RemovedSamples}, {@link PreprocessStats}). Run N's
 * documents, index snapshot and manifest are staged, then moved into the output with the manifest last, so a run is
 * either complete or invisible; earlier runs' documents are never rewritten. The first run (or a reprocess) stages
 * the whole output folder and renames it.
 */
public final class PreprocessPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(PreprocessPipeline.class);
    private static final String JOB = PreprocessStats.JOB;
    public static final String EXACT_DUPLICATE = "exact_duplicate";
    public static final String NEAR_DUPLICATE = "near_duplicate";
    /** New documents that duplicate a document an earlier run published (which is never retracted). */
    public static final String EXACT_DUPLICATE_OF_EARLIER_RUN = "exact_duplicate_of_earlier_run";
    public static final String NEAR_DUPLICATE_OF_EARLIER_RUN = "near_duplicate_of_earlier_run";
    private static final String SUCCESS = "_SUCCESS";

    private static final StructType QUARANTINE_SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false);

    private PreprocessPipeline() {
    }

    /**
     * Runs the job and returns the statistics it wrote to stats.json.
     *
     * @param lineage the run's lineage (effective {@code kiln.preprocess} section, versions), recorded in stats.json
     *                and in the run manifest (its config also as the manifest's config); may be null (tests)
     */
    public static Map<String, Object> run(SparkSession spark, PreprocessConfig cfg, Lineage lineage) throws IOException {
        long jobStart = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        FileSystem fs = AtomicOutput.fs(cfg.output().path(), hconf);
        Path target = fs.makeQualified(new Path(cfg.output().path()));

        // 0. Earlier runs: the inputs they read and the dedup index of everything they kept.
        SparkStages.stage(spark, JOB, "list inputs");
        RunPlan runPlan = plan(cfg, hconf);
        List<RunManifest.Committed> earlier = runPlan.earlier();
        RunManifest last = earlier.isEmpty() ? null : earlier.get(earlier.size() - 1).manifest();
        DedupIndex.Spec spec = DedupIndex.Spec.of(cfg.dedup().near(), cfg.minhash());
        int run = earlier.size() + 1;
        boolean incremental = last != null;
        // A first run stages the whole output folder next to it; a later run stages its parts inside the output.
        Path staging = incremental ? new Path(target, "_tmp-" + RunManifest.runName(run) + "-" + UUID.randomUUID())
                : AtomicOutput.stagingFor(target);
        try {
            // 1. List inputs (driver: names, sizes and times) and keep the files no earlier run read.
            List<InputFile> listed = runPlan.listed();
            checkProcessedUnchanged(jsc, hconf, runPlan);
            List<InputFile> files = runPlan.inputs().fresh();
            if (files.isEmpty()) {
                LOG.info("[preprocess] nothing new: all {} input files were processed by run(s) 1-{} of {}; nothing written",
                        listed.size(), earlier.size(), target);
                return new PreprocessStats.UpToDate(spark.version(), target.toString(), earlier.size()).toMap();
            }
            if (last != null) {
                // Only when there is work: a run with nothing new never fails over settings it would not use.
                String why = last.indexSpec().incompatibility(spec);
                if (why != null) {
                    throw new IllegalStateException(target + ": " + why + "; keep these keys as the earlier runs had them, or start "
                            + "the output over with --reprocess (kiln.preprocess.reprocess = true)");
                }
            }
            Map<String, String> sha = hashFiles(jsc, new HadoopConf(hconf), files);
            long inputBytes = files.stream().mapToLong(InputFile::length).sum();
            int parallelism = jsc.defaultParallelism();
            int partitions = (int) Math.max(parallelism, Math.min(100_000, inputBytes / (64L << 20)));
            long perTask = Math.max(1, Math.min(cfg.input().bytesPerTask(), inputBytes / (2L * parallelism)));
            List<List<InputFile>> tasks = InputListing.tasks(files, perTask);
            LOG.info("[preprocess] run {}: {} new input files ({} processed by earlier runs), {} in {} read tasks; {} shuffle partitions",
                    run, files.size(), listed.size() - files.size(), Progress.human(inputBytes), tasks.size(), partitions);
            PreprocessStats.Input input = new PreprocessStats.Input(cfg.input().paths(), files.size(), inputBytes, listed.size() - files.size());

            // 2. Read, clean, filter: one pass over the input, per document in the tasks.
            SparkStages.stage(spark, JOB, "read, clean and filter");
            DocumentPass.Result pass = DocumentPass.run(jsc, cfg, hconf, tasks, files.size(), inputBytes);

            // 3. Exact duplicates: one representative (lowest id) per normalised-text hash; a hash an earlier run
            //    kept drops the whole group.
            SparkStages.stage(spark, JOB, "exact dedup");
            Dataset<Row> earlierIndex = last == null ? null : DedupIndex.read(spark, new Path(target, last.index()).toString());
            ExactDedup exact = exactDedup(cfg, pass, Optional.ofNullable(earlierIndex), partitions);

            // 4. Near duplicates among the new exact representatives: MinHash + LSH + connected components; a new
            //    document similar to one an earlier run kept is dropped and does not link new clusters.
            SparkStages.stage(spark, JOB, "near dedup");
            NearDedup near = nearDedup(spark, jsc, cfg, exact, Optional.ofNullable(earlierIndex), target, earlier, partitions);
            JavaRDD<Clustered> clustered = near.docs();
            ClusterSizes allClusters = ClusterSizes.of(clustered.mapToPair(x -> new Tuple2<>(x.cluster(), 1L)).reduceByKey(Long::sum).values());

            // 5. Write this run's documents, index snapshot, quarantine, removed samples, stats and manifest into the
            //    staging folder, then commit it.
            SparkStages.stage(spark, JOB, "write");
            String runName = RunManifest.runName(run);
            Path runStaging = new Path(new Path(staging, RunManifest.RUNS_DIR), runName);
            Path docsStaging = new Path(new Path(staging, RunManifest.DOCUMENTS_DIR), runName);
            String indexRel = RunManifest.INDEX_DIR + "/" + runName;
            long indexBefore = last == null ? 0 : last.indexDocuments();
            long indexDocuments = indexBefore + near.representatives().documents();
            PreprocessStats.WriteStage write = writeParts(spark, fs, cfg, pass, near, earlierIndex, indexDocuments, partitions,
                    docsStaging, new Path(staging, indexRel), runStaging);
            Counts out = write.written();

            double total = (System.nanoTime() - jobStart) / 1e9;
            Map<String, Object> stats = new PreprocessStats.Written(spark.version(), target.toString(), run, input, pass.read(),
                    pass.clean(), pass.filter(), exact.stage(), near.stage(), write, allClusters,
                    new PreprocessStats.Index(indexBefore, indexDocuments), total, parallelism).toMap();
            if (cfg.language().enabled()) {
                stats.put("languages", PreprocessStats.languages(pass.languages(), cfg.filter()));
            }
            JsonNode config = lineage == null ? null : lineage.config();
            // The same lineage object in stats.json and in the run manifest.
            JsonNode lineageJson = config == null ? null : lineage.toJson();
            if (config != null) {
                stats.put("config", config);
                stats.put("lineage", lineageJson);
            }
            byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(stats);
            try (FSDataOutputStream o = fs.create(new Path(runStaging, "stats.json"), false)) {
                o.write(json);
            }
            List<InputLedger.Entry> inputs = files.stream()
                    .map(f -> new InputLedger.Entry(f.path(), f.length(), f.modificationTime(), sha.get(f.path()))).toList();
            new RunManifest(RunManifest.FORMAT_VERSION, run, Instant.now().toString(), inputs, listParquet(fs, staging, docsStaging),
                    out.documents(), indexRel, indexDocuments, spec, config, lineageJson, documentsPerLanguage(pass.languages())).write(fs, runStaging);
            publish(fs, staging, target, run, incremental, json);
            LOG.info("[preprocess] run {}: wrote {} documents ({}) to {} in {}; the index holds {} documents", run, out.documents(),
                    Progress.human(out.bytes()), new Path(target, RunManifest.DOCUMENTS_DIR + "/" + runName), Progress.duration(total), indexDocuments);
            pass.processed().unpersist(false);
            exact.docs().unpersist(false);
            clustered.unpersist(false);
            return stats;
        } finally {
            if (fs.exists(staging)) {
                fs.delete(staging, true);
            }
        }
    }

    /**
     * Writes the run's parts into the staging folder: documents (representatives, or all kept documents for
     * {@code keep = all}), the index snapshot, quarantine/ and removed-samples/; returns the write stage's stats.
     */
    private static PreprocessStats.WriteStage writeParts(SparkSession spark, FileSystem fs, PreprocessConfig cfg, DocumentPass.Result pass,
                                                         NearDedup near, Dataset<Row> earlierIndex, long indexDocuments, int partitions,
                                                         Path docsDir, Path indexDir, Path runDir) throws IOException {
        Keep keep = cfg.dedup().keep();
        JavaRDD<Clustered> clustered = near.docs();
        Counts out = keep == Keep.ALL ? pass.kept() : near.representatives();
        Progress progress = new Progress("preprocess: write", out.documents(), out.bytes());
        // 128 MB of text per file unless the config says how many
        int files = cfg.output().files() > 0 ? cfg.output().files() : (int) Math.max(1, (out.bytes() + (128L << 20) - 1) / (128L << 20));
        DocumentsWriter.write(spark, keep == Keep.ALL ? clustered : clustered.filter(Clustered::isRepresentative), files, docsDir.toString());
        // one index file per million documents, at most as many as document files
        writeIndex(spark, earlierIndex, clustered, near.signatures(), partitions,
                (int) Math.max(1, Math.min(files, indexDocuments / 1_000_000 + 1)), indexDir);
        near.release().run();
        writeQuarantine(spark, pass.processed(), new Path(runDir, "quarantine"));
        Map<String, Long> sampled = RemovedSamples.write(fs, new Path(runDir, "removed-samples"), pass.processed(), clustered,
                cfg.output().removedSamplesPerReason());
        progress.add(out.documents(), out.bytes());
        progress.done();
        return new PreprocessStats.WriteStage(out, progress.elapsedSeconds(), files, keep, sampled);
    }

    /** A processed input with a new modification time must still have the content (SHA-256) its run recorded. */
    private static void checkProcessedUnchanged(JavaSparkContext jsc, Configuration hconf, RunPlan runPlan) {
        InputLedger.Plan plan = runPlan.inputs();
        if (!plan.suspect().isEmpty()) {
            List<InputLedger.Entry> processedBefore = runPlan.earlier().stream().flatMap(c -> c.manifest().inputs().stream()).toList();
            Map<String, String> suspectSha = hashFiles(jsc, new HadoopConf(hconf), plan.suspect());
            InputLedger.checkUnchanged(processedBefore, suspectSha);
            LOG.info("[preprocess] {} processed input file(s) have a new modification time but the same content", suspectSha.size());
        }
    }

    /** This run's kept documents with their exact groups (persisted), the stage's stats and the representatives. */
    private record ExactDedup(JavaRDD<Clustered> docs, PreprocessStats.ExactStage stage, Counts representatives) {
    }

    private static ExactDedup exactDedup(PreprocessConfig cfg, DocumentPass.Result pass, Optional<Dataset<Row>> earlierIndex,
                                         int partitions) {
        Counts kept = pass.kept();
        Progress progress = new Progress("preprocess: exact dedup", kept.documents(), kept.bytes());
        JavaRDD<Processed.Kept> keptDocs = pass.keptDocuments();
        JavaRDD<Clustered> docs;
        ClusterSizes groups = ClusterSizes.NONE;
        if (cfg.dedup().exact()) {
            ExactDuplicates.Result<Processed.Kept> found = ExactDuplicates.find(keptDocs.mapToPair(p -> new Tuple2<>(p.hash(), p)),
                    p -> p.document().id(), earlierIndex.map(DedupIndex::hashes), partitions);
            groups = found.groups();
            docs = found.members().map(Clustered::of);
        } else {
            docs = keptDocs.map(p -> Clustered.exact(p, p.document().id()));
        }
        docs = docs.persist(StorageLevel.MEMORY_AND_DISK());
        Outcomes after = Outcomes.of(docs);
        progress.add(kept.documents(), kept.bytes());
        progress.done();
        PreprocessStats.ExactStage stage = new PreprocessStats.ExactStage(new Flow(kept, after.representatives()), progress.elapsedSeconds(),
                after.removed(List.of(EXACT_DUPLICATE, EXACT_DUPLICATE_OF_EARLIER_RUN)), cfg.dedup().exact(), groups);
        return new ExactDedup(docs, stage, after.representatives());
    }

    /**
     * All documents with their final clusters (persisted when near dedup ran), the stage's stats, the representatives,
     * the new representatives' MinHash signatures for the index (when near dedup ran) and what frees near dedup's
     * cached data once the index is written.
     */
    private record NearDedup(JavaRDD<Clustered> docs, PreprocessStats.NearStage stage, Counts representatives,
                             Optional<JavaPairRDD<String, int[]>> signatures, Runnable release) {
    }

    private static NearDedup nearDedup(SparkSession spark, JavaSparkContext jsc, PreprocessConfig cfg, ExactDedup exact,
                                       Optional<Dataset<Row>> earlierIndex, Path target, List<RunManifest.Committed> earlier,
                                       int partitions) {
        Counts in = exact.representatives();
        Progress progress = new Progress("preprocess: near dedup", in.documents(), in.bytes());
        JavaRDD<Clustered> clustered = exact.docs();
        Optional<JavaPairRDD<String, int[]>> signatures = Optional.empty();
        Optional<PreprocessStats.NearFindings> findings = Optional.empty();
        Runnable release = () -> { };
        if (cfg.dedup().near()) {
            JavaPairRDD<String, String> idText = exact.docs().filter(Clustered::isRepresentative)
                    .mapToPair(x -> new Tuple2<>(x.id(), x.p().document().text()));
            NearDuplicates.Earlier earlierDocs = earlierIndex
                    .map(index -> new NearDuplicates.Earlier(DedupIndex.signatures(index), earlierTexts(spark, jsc, target, earlier)))
                    .orElse(null);
            NearDuplicates.Result nd = NearDuplicates.find(idText, earlierDocs, cfg.minhash(), partitions);
            // (exact representative id, (cluster, reason)) for every new representative that is not its own cluster
            JavaPairRDD<String, Tuple2<String, String>> outcome = nd.labels().mapValues(l -> new Tuple2<>(l, NEAR_DUPLICATE))
                    .union(nd.earlierMatches().mapValues(o -> new Tuple2<>(o, NEAR_DUPLICATE_OF_EARLIER_RUN)));
            clustered = exact.docs().mapToPair(x -> new Tuple2<>(x.exactRep(), x)).leftOuterJoin(outcome, partitions)
                    .map(t -> {
                        Clustered x = t._2()._1();
                        org.apache.spark.api.java.Optional<Tuple2<String, String>> o = t._2()._2();
                        return o.isPresent() ? x.near(o.get()._1(), o.get()._2()) : x;
                    })
                    .persist(StorageLevel.MEMORY_AND_DISK());
            // Cluster sizes: a label names the cluster a document joins, so a cluster is its labels plus its representative.
            ClusterSizes clusters = ClusterSizes.of(nd.labels().mapToPair(t -> new Tuple2<>(t._2(), 1L))
                    .reduceByKey(Long::sum).values().map(n -> n + 1));
            findings = Optional.of(new PreprocessStats.NearFindings(nd.candidatePairs(), nd.similarPairs(), nd.oversizedBuckets(),
                    nd.rounds(), nd.earlierCandidatePairs(), nd.earlierSimilarPairs(), clusters));
            signatures = Optional.of(nd.signatures());
            release = nd.release();
        }
        Outcomes after = Outcomes.of(clustered);
        progress.add(in.documents(), in.bytes());
        progress.done();
        PreprocessStats.NearStage stage = new PreprocessStats.NearStage(new Flow(in, after.representatives()), progress.elapsedSeconds(),
                after.removed(List.of(NEAR_DUPLICATE, NEAR_DUPLICATE_OF_EARLIER_RUN)), cfg.dedup().near(), cfg.minhash(), findings);
        return new NearDedup(clustered, stage, after.representatives(), signatures, release);
    }

    /** Documents and bytes (after cleaning) of the representatives and per duplicate reason, counted in one Spark job. */
    private record Outcomes(Counts representatives, Map<String, Counts> byReason) {
        /** The shuffle key of representatives, which have no reason (never a reason's name). */
        private static final String REPRESENTATIVE = "";

        static Outcomes of(JavaRDD<Clustered> docs) {
            Map<String, Counts> byReason = new TreeMap<>(docs
                    .mapToPair(x -> new Tuple2<>(x.isRepresentative() ? REPRESENTATIVE : x.reason(), new Counts(1, x.p().bytesCleaned())))
                    .reduceByKey(Counts::plus)
                    .collectAsMap());
            Counts representatives = byReason.getOrDefault(REPRESENTATIVE, Counts.ZERO);
            byReason.remove(REPRESENTATIVE);
            return new Outcomes(representatives, byReason);
        }

        /** The stage's {@code removed} entry: {@code reasons} in this order, zeros included. */
        Map<String, Counts> removed(List<String> reasons) {
            Map<String, Counts> m = new LinkedHashMap<>();
            reasons.forEach(r -> m.put(r, byReason.getOrDefault(r, Counts.ZERO)));
            return m;
        }
    }

    /** The index snapshot: the earlier one plus this run's representatives (with their signatures when near dedup ran). */
    private static void writeIndex(SparkSession spark, Dataset<Row> earlierIndex, JavaRDD<Clustered> clustered,
                                   Optional<JavaPairRDD<String, int[]>> signatures, int partitions, int files, Path dir) {
        JavaPairRDD<String, String> repHashes = clustered.filter(Clustered::isRepresentative).mapToPair(x -> new Tuple2<>(x.id(), x.p().hash()));
        JavaRDD<DedupIndex.Entry> added = signatures.isEmpty()
                ? repHashes.map(t -> new DedupIndex.Entry(t._1(), t._2(), null))
                : repHashes.leftOuterJoin(signatures.get(), partitions)
                .map(t -> new DedupIndex.Entry(t._1(), t._2()._1(), t._2()._2().isPresent() ? t._2()._2().get() : null));
        DedupIndex.write(spark, earlierIndex, added, files, dir.toString());
    }

    /** quarantine/: one JSON line (path, reason) per input that could not be read as a document, sorted. */
    private static void writeQuarantine(SparkSession spark, JavaRDD<Processed> processed, Path dir) {
        JavaRDD<Row> rows = processed.filter(p -> p instanceof Processed.Quarantined).map(p -> (Processed.Quarantined) p)
                .map(q -> RowFactory.create(q.path(), q.reason()));
        spark.createDataFrame(rows, QUARANTINE_SCHEMA).coalesce(1).sortWithinPartitions("path", "reason")
                .write().mode(SaveMode.ErrorIfExists).json(dir.toString());
    }

    /**
     * What a run of {@code cfg} would do, from the driver alone (listings and run manifests; no Spark, nothing
     * written): the output's committed runs, the listed inputs and which of them are new. {@code --dry-run} prints it.
     */
    public record RunPlan(Path output, List<RunManifest.Committed> earlier, List<InputFile> listed, InputLedger.Plan inputs) {
        public int nextRun() {
            return earlier.size() + 1;
        }

        /** A human-readable report: the run it would write and every new input file with its size. */
        public String describe(boolean reprocess) {
            StringBuilder sb = new StringBuilder();
            sb.append("  output: ").append(output).append(reprocess ? " (reprocess: replaced by a new run 1)" : "").append('\n');
            sb.append("  committed runs: ").append(earlier.size()).append('\n');
            sb.append("  input files listed: ").append(listed.size()).append(", already processed: ")
                    .append(listed.size() - inputs.fresh().size()).append('\n');
            if (!inputs.suspect().isEmpty()) {
                sb.append("  processed files with a new modification time (re-hashed; a changed one is an error): ")
                        .append(inputs.suspect().size()).append('\n');
            }
            if (inputs.fresh().isEmpty()) {
                sb.append("  nothing new: a run would write nothing and exit 0\n");
                return sb.toString();
            }
            long bytes = inputs.fresh().stream().mapToLong(InputFile::length).sum();
            sb.append("  would write run ").append(RunManifest.runName(nextRun())).append(" from ").append(inputs.fresh().size())
                    .append(" new file(s), ").append(Progress.human(bytes)).append(":\n");
            for (InputFile f : inputs.fresh()) {
                sb.append("    ").append(f.path()).append("  ").append(Progress.human(f.length())).append('\n');
            }
            return sb.toString();
        }
    }

    public static RunPlan plan(PreprocessConfig cfg, Configuration hconf) throws IOException {
        FileSystem fs = AtomicOutput.fs(cfg.output().path(), hconf);
        Path target = fs.makeQualified(new Path(cfg.output().path()));
        List<RunManifest.Committed> earlier = earlierRuns(fs, target, cfg.reprocess());
        List<InputFile> listed = InputListing.list(cfg.input().paths(), cfg.input().format(), hconf);
        List<InputLedger.Entry> processedBefore = earlier.stream().flatMap(c -> c.manifest().inputs().stream()).toList();
        return new RunPlan(target, earlier, listed, InputLedger.plan(processedBefore, listed));
    }

    /**
     * The committed runs of the output, or none when it is to be started over (reprocess) or does not exist yet. An
     * existing, non-empty output without committed runs is not a preprocess output this Kiln can add to.
     */
    private static List<RunManifest.Committed> earlierRuns(FileSystem fs, Path target, boolean reprocess) throws IOException {
        if (reprocess || !fs.exists(target)) {
            if (reprocess && fs.exists(target)) {
                LOG.info("[preprocess] kiln.preprocess.reprocess = true: {} will be replaced by a new run 1", target);
            }
            return List.of();
        }
        List<RunManifest.Committed> runs = RunManifest.readAll(fs, target);
        if (runs.isEmpty() && Arrays.stream(fs.listStatus(target)).map(st -> st.getPath().getName())
                .anyMatch(n -> !n.startsWith("_") && !n.startsWith(".") && !n.equals(RunStatus.FILE_NAME))) {
            throw new IllegalStateException("kiln.preprocess.output.path " + target + " exists but holds no committed preprocess run "
                    + "(no " + RunManifest.RUNS_DIR + "/run=NNNN/" + RunManifest.FILE_NAME + "; an older Kiln layout or another folder); "
                    + "use a new output path, or --reprocess (kiln.preprocess.reprocess = true) to replace it");
        }
        return runs;
    }

    /**
     * Makes the staged run visible: a later run moves its parts into the output ({@link #commitRun}); a first run
     * (or a reprocess) gets stats.json and _SUCCESS in the staged folder, which then replaces the output.
     */
    private static void publish(FileSystem fs, Path staging, Path target, int run, boolean incremental, byte[] statsJson)
            throws IOException {
        if (incremental) {
            commitRun(fs, staging, target, run, statsJson);
            return;
        }
        try (FSDataOutputStream o = fs.create(new Path(staging, "stats.json"), false)) {
            o.write(statsJson);
        }
        fs.create(new Path(staging, SUCCESS), false).close();
        AtomicOutput.commit(fs, staging, target);
    }

    /**
     * Moves run N's parts from the staging folder into the output: documents, then the index snapshot, then the run
     * folder with its manifest, which commits the run (readers ignore parts without a committed manifest; a crash
     * before it leaves parts the next attempt of run N replaces). Then stats.json and _SUCCESS, and older index
     * snapshots, which the new one contains, are removed.
     */
    private static void commitRun(FileSystem fs, Path staging, Path target, int run, byte[] statsJson) throws IOException {
        String name = RunManifest.runName(run);
        for (String dir : List.of(RunManifest.DOCUMENTS_DIR, RunManifest.INDEX_DIR, RunManifest.RUNS_DIR)) {
            Path from = new Path(new Path(staging, dir), name);
            Path to = new Path(new Path(target, dir), name);
            if (fs.exists(to)) {
                LOG.info("[preprocess] removing {}, left by an interrupted attempt of {}", to, name);
                fs.delete(to, true);
            }
            fs.mkdirs(to.getParent());
            AtomicOutput.dropChecksums(fs, from);
            if (!fs.rename(from, to)) {
                throw new IOException("cannot rename " + from + " to " + to);
            }
        }
        AtomicOutput.writeBytes(fs, new Path(target, "stats.json"), statsJson);
        AtomicOutput.writeBytes(fs, new Path(target, SUCCESS), new byte[0]);
        for (FileStatus st : fs.listStatus(new Path(target, RunManifest.INDEX_DIR))) {
            int n = RunManifest.parseRun(st.getPath().getName());
            if (n > 0 && n < run) {
                fs.delete(st.getPath(), true);
            }
        }
    }

    private static SortedMap<String, Long> documentsPerLanguage(Map<String, Counts> languages) {
        SortedMap<String, Long> m = new TreeMap<>();
        languages.forEach((l, c) -> m.put(l, c.documents()));
        return m;
    }

    /** The Parquet files of a run's documents folder, relative to the (staged) output folder, with their sizes. */
    private static List<RunManifest.FileEntry> listParquet(FileSystem fs, Path root, Path dir) throws IOException {
        List<RunManifest.FileEntry> out = new ArrayList<>();
        String prefix = root.toUri().getPath() + "/";
        for (FileStatus st : fs.listStatus(dir)) {
            String n = st.getPath().getName();
            if (st.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
                out.add(new RunManifest.FileEntry(st.getPath().toUri().getPath().substring(prefix.length()), st.getLen()));
            }
        }
        out.sort(Comparator.comparing(RunManifest.FileEntry::path));
        return out;
    }

    /** (id, text) of every document earlier runs wrote, read lazily: near dedup joins only its candidates against it. */
    private static JavaPairRDD<String, String> earlierTexts(SparkSession spark, JavaSparkContext jsc, Path target,
                                                            List<RunManifest.Committed> earlier) {
        String[] paths = earlier.stream().flatMap(c -> c.manifest().documentFiles().stream())
                .map(f -> new Path(target, f.path()).toString()).toArray(String[]::new);
        if (paths.length == 0) {
            return JavaPairRDD.fromJavaRDD(jsc.<Tuple2<String, String>>emptyRDD());
        }
        return spark.read().schema(DocumentsWriter.SCHEMA).parquet(paths).select("id", "text").javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0), r.getString(1)));
    }

    /** SHA-256 of each file's bytes, computed in Spark tasks (one file per task at most). */
    private static Map<String, String> hashFiles(JavaSparkContext jsc, HadoopConf conf, List<InputFile> files) {
        if (files.isEmpty()) {
            return Map.of();
        }
        List<String> paths = files.stream().map(InputFile::path).toList();
        return new TreeMap<>(jsc.parallelize(paths, Math.max(1, Math.min(paths.size(), jsc.defaultParallelism() * 4)))
                .mapToPair(p -> {
                    Path path = new Path(p);
                    return new Tuple2<>(p, FileHashes.sha256(path.getFileSystem(conf.get()), path));
                })
                .collectAsMap());
    }
}
