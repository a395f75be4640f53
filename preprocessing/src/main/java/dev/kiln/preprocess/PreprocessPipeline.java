package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.io.HadoopConf;
import dev.kiln.common.log.Progress;
import dev.kiln.common.spark.SparkStages;
import dev.kiln.documents.RunManifest;
import dev.kiln.preprocess.PreprocessConfig.Keep;
import dev.kiln.preprocess.PreprocessStats.Counts;
import dev.kiln.preprocess.dedup.ClusterSizes;
import dev.kiln.preprocess.dedup.DedupIndex;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputListing;
import dev.kiln.preprocess.runs.InputLedger;
import dev.kiln.preprocess.runs.RunPlan;
import dev.kiln.preprocess.runs.RunStaging;
import org.apache.hadoop.conf.Configuration;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * {@code kiln preprocess} on Spark, one incremental run, in named phases: plan the run ({@link RunPlan}: the inputs no
 * earlier run read), read + clean + filter (one pass, per document, in the tasks: {@link DocumentPass}), exact dedup
 * ({@link ExactDedup}), near dedup ({@link NearDedup}; both also against the {@link DedupIndex} of everything earlier
 * runs kept), write ({@link DocumentsWriter}, the index snapshot, quarantine, {@link RemovedSamples},
 * {@link PreprocessStats}) into the run's {@link RunStaging}, and commit: run N's documents, index snapshot and
 * manifest are moved into the output with the manifest last, so a run is either complete or invisible; earlier runs'
 * documents are never rewritten. The first run (or a reprocess) stages the whole output folder and renames it.
 */
public final class PreprocessPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(PreprocessPipeline.class);
    private static final String JOB = PreprocessStats.JOB;
    public static final String EXACT_DUPLICATE = "exact_duplicate";
    public static final String NEAR_DUPLICATE = "near_duplicate";
    /** New documents that duplicate a document an earlier run published (which is never retracted). */
    public static final String EXACT_DUPLICATE_OF_EARLIER_RUN = "exact_duplicate_of_earlier_run";
    public static final String NEAR_DUPLICATE_OF_EARLIER_RUN = "near_duplicate_of_earlier_run";

    private static final StructType QUARANTINE_SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false);

    private PreprocessPipeline() {
    }

    /**
     * Runs the job and returns the statistics it wrote to stats.json: the phases below, in the README's order.
     *
     * @param lineage the run's lineage (effective {@code kiln.preprocess} section, versions), recorded in stats.json
     *                and in the run manifest (its config also as the manifest's config)
     */
    public static Map<String, Object> run(SparkSession spark, PreprocessConfig cfg, Lineage lineage) throws IOException {
        long jobStart = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        FileSystem fs = AtomicOutput.fs(cfg.output().path(), hconf);

        // 0. Earlier runs: the inputs they read and the dedup index of everything they kept.
        SparkStages.stage(spark, JOB, "list inputs");
        RunPlan plan = plan(cfg, hconf);
        Optional<RunManifest> last = plan.last();
        try (RunStaging staging = RunStaging.open(fs, plan.output(), plan.nextRun(), last.isPresent())) {
            // 1. List inputs (driver: names, sizes and times) and keep the files no earlier run read.
            checkProcessedUnchanged(jsc, hconf, plan);
            if (plan.inputs().fresh().isEmpty()) {
                LOG.info("[preprocess] nothing new: all {} input files were processed by run(s) 1-{} of {}; nothing written",
                        plan.listed().size(), plan.earlier().size(), plan.output());
                return new PreprocessStats.UpToDate(spark.version(), plan.output().toString(), plan.earlier().size()).toMap();
            }
            checkIndexCompatible(cfg, plan);
            NewInputs inputs = NewInputs.of(jsc, hconf, cfg, plan);

            // 2. Read, clean, filter: one pass over the input, per document in the tasks.
            SparkStages.stage(spark, JOB, "read, clean and filter");
            DocumentPass.Result pass = DocumentPass.run(jsc, cfg, hconf, inputs.tasks(), inputs.files().size(), inputs.bytes());

            // 3. Exact duplicates, also against the index of everything earlier runs kept.
            SparkStages.stage(spark, JOB, "exact dedup");
            Optional<Dataset<Row>> earlierIndex = last.map(m -> DedupIndex.read(spark, new Path(plan.output(), m.index()).toString()));
            ExactDedup.Result exact = ExactDedup.run(cfg, pass, earlierIndex, inputs.partitions());

            // 4. Near duplicates among the new exact representatives, also against earlier runs' documents.
            SparkStages.stage(spark, JOB, "near dedup");
            NearDedup.Result near = NearDedup.run(cfg, exact, earlierIndex, () -> earlierTexts(spark, jsc, plan), inputs.partitions());
            JavaRDD<Clustered> clustered = near.docs();
            ClusterSizes allClusters = ClusterSizes.of(clustered.mapToPair(x -> new Tuple2<>(x.cluster(), 1L)).reduceByKey(Long::sum).values());

            // 5. Write this run's documents, index snapshot, quarantine, removed samples, stats and manifest into the
            //    staging folder, then commit it.
            SparkStages.stage(spark, JOB, "write");
            long indexBefore = last.map(RunManifest::indexDocuments).orElse(0L);
            PreprocessStats.Index index = new PreprocessStats.Index(indexBefore, indexBefore + near.representatives().documents());
            PreprocessStats.WriteStage write = writeParts(spark, fs, cfg, pass, near, earlierIndex.orElse(null), index.documentsAfter(),
                    inputs.partitions(), staging);
            PreprocessStats.Written written = new PreprocessStats.Written(spark.version(), plan.output().toString(), plan.nextRun(),
                    inputs.stats(), pass.read(), pass.clean(), pass.filter(), exact.stage(), near.stage(), write, allClusters, index,
                    (System.nanoTime() - jobStart) / 1e9, jsc.defaultParallelism());
            Map<String, Object> stats = commit(cfg, lineage, written, inputs, pass, staging);
            pass.processed().unpersist(false);
            exact.docs().unpersist(false);
            clustered.unpersist(false);
            return stats;
        }
    }

    /**
     * Renders stats.json ({@code written}, the language counts, the lineage), writes it and the run manifest into the
     * staging folder and publishes the run; returns the stats.
     */
    private static Map<String, Object> commit(PreprocessConfig cfg, Lineage lineage, PreprocessStats.Written written, NewInputs inputs,
                                              DocumentPass.Result pass, RunStaging staging) throws IOException {
        Map<String, Object> stats = written.toMap();
        if (cfg.language().enabled()) {
            stats.put("languages", PreprocessStats.languages(pass.languages(), cfg.filter()));
        }
        // The same lineage object in stats.json and in the run manifest.
        JsonNode lineageJson = lineage.toJson();
        stats.put("config", lineage.config());
        stats.put("lineage", lineageJson);
        byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(stats);
        staging.writeRunStats(json);
        Counts out = written.write().written();
        long indexDocuments = written.index().documentsAfter();
        staging.writeManifest(new RunManifest(RunManifest.FORMAT_VERSION, written.run(), Instant.now().toString(), inputs.ledgerEntries(),
                staging.documentFiles(), out.documents(), staging.indexPath(), indexDocuments,
                DedupIndex.spec(cfg.dedup().near(), cfg.minhash()), lineage.config(), lineageJson, documentsPerLanguage(pass.languages())));
        staging.publish(json);
        LOG.info("[preprocess] run {}: wrote {} documents ({}) to {} in {}; the index holds {} documents", written.run(), out.documents(),
                Progress.human(out.bytes()), new Path(written.output(), RunManifest.DOCUMENTS_DIR + "/" + RunManifest.runName(written.run())),
                Progress.duration(written.seconds()), indexDocuments);
        return stats;
    }

    /** A later run adds to the earlier runs' index only if it makes signatures the same way (checked only when there is work). */
    private static void checkIndexCompatible(PreprocessConfig cfg, RunPlan plan) {
        Optional<String> why = plan.last().map(m -> m.indexSpec().incompatibility(DedupIndex.spec(cfg.dedup().near(), cfg.minhash())));
        if (why.isPresent()) {
            throw new IllegalStateException(plan.output() + ": " + why.get() + "; keep these keys as the earlier runs had them, or "
                    + "start the output over with --reprocess (kiln.preprocess.reprocess = true)");
        }
    }

    /**
     * This run's new input files with their SHA-256, their total size, the read tasks and the shuffle partitions.
     *
     * @param stats the stats.json {@code input} entry
     */
    private record NewInputs(List<InputFile> files, Map<String, String> sha, long bytes, List<List<InputFile>> tasks, int partitions,
                             PreprocessStats.Input stats) {
        static NewInputs of(JavaSparkContext jsc, Configuration hconf, PreprocessConfig cfg, RunPlan plan) {
            List<InputFile> files = plan.inputs().fresh();
            Map<String, String> sha = hashFiles(jsc, new HadoopConf(hconf), files);
            long inputBytes = files.stream().mapToLong(InputFile::length).sum();
            int parallelism = jsc.defaultParallelism();
            int partitions = (int) Math.max(parallelism, Math.min(100_000, inputBytes / (64L << 20)));
            long perTask = Math.max(1, Math.min(cfg.input().bytesPerTask(), inputBytes / (2L * parallelism)));
            List<List<InputFile>> tasks = InputListing.tasks(files, perTask);
            int processedBefore = plan.listed().size() - files.size();
            LOG.info("[preprocess] run {}: {} new input files ({} processed by earlier runs), {} in {} read tasks; {} shuffle partitions",
                    plan.nextRun(), files.size(), processedBefore, Progress.human(inputBytes), tasks.size(), partitions);
            return new NewInputs(files, sha, inputBytes, tasks, partitions,
                    new PreprocessStats.Input(cfg.input().paths(), files.size(), inputBytes, processedBefore));
        }

        /** The files as the run manifest records them (path, size, modification time, SHA-256). */
        List<RunManifest.InputEntry> ledgerEntries() {
            return files.stream().map(f -> new RunManifest.InputEntry(f.path(), f.length(), f.modificationTime(), sha.get(f.path()))).toList();
        }
    }

    /**
     * Writes the run's parts into the staging folder: documents (representatives, or all kept documents for
     * {@code keep = all}), the index snapshot, quarantine/ and removed-samples/; returns the write stage's stats.
     */
    private static PreprocessStats.WriteStage writeParts(SparkSession spark, FileSystem fs, PreprocessConfig cfg, DocumentPass.Result pass,
                                                         NearDedup.Result near, Dataset<Row> earlierIndex, long indexDocuments,
                                                         int partitions, RunStaging staging) throws IOException {
        Keep keep = cfg.dedup().keep();
        JavaRDD<Clustered> clustered = near.docs();
        Counts out = keep == Keep.ALL ? pass.kept() : near.representatives();
        Progress progress = new Progress("preprocess: write", out.documents(), out.bytes());
        // 128 MB of text per file unless the config says how many
        int files = cfg.output().files() > 0 ? cfg.output().files() : (int) Math.max(1, (out.bytes() + (128L << 20) - 1) / (128L << 20));
        DocumentsWriter.write(spark, keep == Keep.ALL ? clustered : clustered.filter(Clustered::isRepresentative), files, staging.documentsDir().toString());
        // one index file per million documents, at most as many as document files
        writeIndex(spark, earlierIndex, clustered, near.signatures(), partitions,
                (int) Math.max(1, Math.min(files, indexDocuments / 1_000_000 + 1)), staging.indexDir());
        near.release().run();
        writeQuarantine(spark, pass.processed(), new Path(staging.runDir(), "quarantine"));
        Map<String, Long> sampled = RemovedSamples.write(fs, new Path(staging.runDir(), "removed-samples"), pass.processed(), clustered,
                cfg.output().removedSamplesPerReason());
        progress.add(out.documents(), out.bytes());
        progress.done();
        return new PreprocessStats.WriteStage(out, progress.elapsedSeconds(), files, keep, sampled);
    }

    /** A processed input with a new modification time must still have the content (SHA-256) its run recorded. */
    private static void checkProcessedUnchanged(JavaSparkContext jsc, Configuration hconf, RunPlan runPlan) {
        InputLedger.Plan plan = runPlan.inputs();
        if (!plan.suspect().isEmpty()) {
            Map<String, String> suspectSha = hashFiles(jsc, new HadoopConf(hconf), plan.suspect());
            InputLedger.checkUnchanged(runPlan.processedBefore(), suspectSha);
            LOG.info("[preprocess] {} processed input file(s) have a new modification time but the same content", suspectSha.size());
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

    /** What a run of {@code cfg} would do, from the driver alone; {@code --dry-run} prints it. */
    public static RunPlan plan(PreprocessConfig cfg, Configuration hconf) throws IOException {
        return RunPlan.of(cfg.output().path(), cfg.reprocess(), cfg.input(), hconf);
    }

    private static SortedMap<String, Long> documentsPerLanguage(Map<String, Counts> languages) {
        SortedMap<String, Long> m = new TreeMap<>();
        languages.forEach((l, c) -> m.put(l, c.documents()));
        return m;
    }

    /** (id, text) of every document earlier runs wrote, read lazily: near dedup joins only its candidates against it. */
    private static JavaPairRDD<String, String> earlierTexts(SparkSession spark, JavaSparkContext jsc, RunPlan plan) {
        String[] paths = plan.earlier().stream().flatMap(c -> c.manifest().documentFiles().stream())
                .map(f -> new Path(plan.output(), f.path()).toString()).toArray(String[]::new);
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
