package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.io.AtomicOutput;
import dev.kiln.preprocess.PreprocessConfig.Keep;
import dev.kiln.preprocess.dedup.DedupIndex;
import dev.kiln.preprocess.dedup.NearDuplicates;
import dev.kiln.preprocess.filter.DocFilter;
import dev.kiln.preprocess.read.FileReaders;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputListing;
import dev.kiln.preprocess.read.ReadRecord;
import dev.kiln.preprocess.runs.InputLedger;
import dev.kiln.preprocess.runs.RunManifest;
import dev.kiln.progress.Progress;
import dev.kiln.shards.Manifest;
import dev.kiln.spark.SparkStages;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.UUID;

import static org.apache.spark.sql.functions.col;

/**
 * {@code kiln preprocess} on Spark, one incremental run: list inputs and keep the files no earlier run read, read +
 * clean + filter (one pass, per document, in the tasks), exact dedup, near dedup (both also against the
 * {@link DedupIndex} of everything earlier runs kept), write. Run N's documents, index snapshot and manifest are
 * staged, then moved into the output with the manifest last, so a run is either complete or invisible; earlier
 * runs' documents are never rewritten. The first run (or a reprocess) stages the whole output folder and renames it.
 */
public final class PreprocessPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(PreprocessPipeline.class);
    private static final String JOB = "preprocess";
    public static final String EXACT_DUPLICATE = "exact_duplicate";
    public static final String NEAR_DUPLICATE = "near_duplicate";
    /** New documents that duplicate a document an earlier run published (which is never retracted). */
    public static final String EXACT_DUPLICATE_OF_EARLIER_RUN = "exact_duplicate_of_earlier_run";
    public static final String NEAR_DUPLICATE_OF_EARLIER_RUN = "near_duplicate_of_earlier_run";
    private static final String KEPT = "kept";
    private static final String SUCCESS = "_SUCCESS";
    /** Text longer than this is cut in removed-samples/ (the sample is for eyes, not for training). */
    private static final int SAMPLE_TEXT_CHARS = 4000;

    public static final StructType DOCUMENT_SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("source", DataTypes.StringType, false)
            .add("text", DataTypes.StringType, false)
            .add("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, false), false)
            .add("hash", DataTypes.StringType, false)
            .add("cluster_id", DataTypes.StringType, false);
    public static final StructType QUARANTINE_SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("reason", DataTypes.StringType, false);

    private PreprocessPipeline() {
    }

    /**
     * A kept document with its exact-duplicate cluster and, after near dedup, its final cluster (an earlier run's
     * document for a duplicate of one). {@code reason}: why it is not written as a representative, null when it is one.
     */
    record Clustered(Processed p, String exactRep, long exactSize, String cluster, String reason) implements Serializable {
        static Clustered exact(Processed p, String exactRep, long exactSize) {
            return new Clustered(p, exactRep, exactSize, exactRep, p.document().id().equals(exactRep) ? null : EXACT_DUPLICATE);
        }

        String id() {
            return p.document().id();
        }

        /** The whole exact group duplicates {@code earlierId}, a document an earlier run published. */
        Clustered duplicateOf(String earlierId, String why) {
            return new Clustered(p, exactRep, exactSize, earlierId, why);
        }

        /**
         * Near dedup put this document's exact representative into {@code newCluster} ({@code why}: near_duplicate, or
         * near_duplicate_of_earlier_run when that cluster is an earlier run's document). Exact duplicates keep their
         * reason and follow their representative.
         */
        Clustered near(String newCluster, String why) {
            if (reason != null) {
                return reason.equals(EXACT_DUPLICATE) ? new Clustered(p, exactRep, exactSize, newCluster, reason) : this;
            }
            return new Clustered(p, exactRep, exactSize, newCluster, newCluster.equals(id()) ? null : why);
        }
    }

    /**
     * Runs the job and returns the statistics it wrote to stats.json.
     *
     * @param lineage the run's lineage (effective {@code kiln.preprocess} section, versions), recorded in stats.json
     *                (its config also in the run manifest); may be null (tests)
     */
    public static Map<String, Object> run(SparkSession spark, PreprocessConfig cfg, dev.kiln.config.Lineage lineage) throws IOException {
        long jobStart = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        FileSystem fs = AtomicOutput.fs(cfg.output().path(), hconf);
        Path target = fs.makeQualified(new Path(cfg.output().path()));
        Map<String, Object> stats = new LinkedHashMap<>();
        Map<String, Object> stages = new LinkedHashMap<>();
        stats.put("job", JOB);
        stats.put("spark_version", spark.version());
        stats.put("output", target.toString());

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
            List<InputLedger.Entry> processedBefore = earlier.stream().flatMap(c -> c.manifest().inputs().stream()).toList();
            InputLedger.Plan plan = runPlan.inputs();
            if (!plan.suspect().isEmpty()) {
                Map<String, String> suspectSha = hashFiles(jsc, new HadoopConf(hconf), plan.suspect());
                InputLedger.checkUnchanged(processedBefore, suspectSha);
                LOG.info("[preprocess] {} processed input file(s) have a new modification time but the same content", suspectSha.size());
            }
            List<InputFile> files = plan.fresh();
            if (files.isEmpty()) {
                LOG.info("[preprocess] nothing new: all {} input files were processed by run(s) 1-{} of {}; nothing written",
                        listed.size(), earlier.size(), target);
                stats.put("run", earlier.size());
                stats.put("up_to_date", true);
                return stats;
            }
            if (last != null) {
                // Only when there is work: a run with nothing new never fails over settings it would not use.
                String why = last.indexSpec().incompatibility(spec);
                if (why != null) {
                    throw new IllegalStateException(target + ": " + why + "; keep these keys as the earlier runs had them, or start "
                            + "the output over with --reprocess (kiln.preprocess.reprocess = true)");
                }
            }
            stats.put("run", run);
            Map<String, String> sha = hashFiles(jsc, new HadoopConf(hconf), files);
            long inputBytes = files.stream().mapToLong(InputFile::length).sum();
            int parallelism = jsc.defaultParallelism();
            int partitions = (int) Math.max(parallelism, Math.min(100_000, inputBytes / (64L << 20)));
            long perTask = Math.max(1, Math.min(cfg.input().bytesPerTask(), inputBytes / (2L * parallelism)));
            List<List<InputFile>> tasks = InputListing.tasks(files, perTask);
            LOG.info("[preprocess] run {}: {} new input files ({} processed by earlier runs), {} in {} read tasks; {} shuffle partitions",
                    run, files.size(), listed.size() - files.size(), Progress.human(inputBytes), tasks.size(), partitions);
            stats.put("input", Map.of("paths", cfg.input().paths(), "files", files.size(), "bytes", inputBytes,
                    "already_processed_files", listed.size() - files.size()));

            // 2. Read, clean, filter: one pass over the input, per document in the tasks.
            SparkStages.stage(spark, JOB, "read, clean and filter");
            Progress pass = new Progress("preprocess: read, clean, filter", files.size(), inputBytes);
            LongAccumulator readNanos = jsc.sc().longAccumulator("preprocess read ns");
            LongAccumulator cleanNanos = jsc.sc().longAccumulator("preprocess clean ns");
            LongAccumulator filterNanos = jsc.sc().longAccumulator("preprocess filter ns");
            DocumentProcessor processor = new DocumentProcessor(cfg.clean(), cfg.filter());
            HadoopConf taskConf = new HadoopConf(hconf);
            PreprocessConfig c = cfg;
            JavaRDD<Processed> processed = jsc.parallelize(tasks, Math.max(1, tasks.size()))
                    .flatMap(task -> new TimedRecords(task, c, taskConf.get(), readNanos))
                    .map(r -> processor.process(r, (step, nanos) -> (step.equals("clean") ? cleanNanos : filterNanos).add(nanos)))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            Map<String, long[]> outcomes = new TreeMap<>(processed
                    .mapToPair(p -> new Tuple2<>(p.isQuarantine() ? "quarantine" : p.isKept() ? "kept" : "removed:" + p.removedBy(),
                            new long[]{1, p.bytesRead(), p.bytesCleaned()}))
                    .reduceByKey(PreprocessPipeline::sum)
                    .collectAsMap());
            long[] quarantined = outcomes.getOrDefault("quarantine", new long[3]);
            long[] kept = outcomes.getOrDefault("kept", new long[3]);
            long[] read = new long[3];
            outcomes.forEach((k, v) -> {
                if (!k.equals("quarantine")) {
                    read[0] += v[0];
                    read[1] += v[1];
                    read[2] += v[2];
                }
            });
            checkQuarantine(cfg, quarantined[0], read[0], processed);
            long[] emptied = outcomes.getOrDefault("removed:" + DocumentProcessor.EMPTY_AFTER_CLEANING, new long[3]);
            pass.add(files.size(), inputBytes);
            pass.done();
            double passSeconds = pass.elapsedSeconds();
            stages.put("read", stage(files.size(), inputBytes, read[0], read[1], passSeconds, readNanos.value(),
                    Map.of("quarantined", quarantined[0])));
            Map<String, Object> cleanRemoved = new LinkedHashMap<>();
            cleanRemoved.put(DocumentProcessor.EMPTY_AFTER_CLEANING, counts(emptied[0], emptied[1]));
            stages.put("clean", stageWithRemoved(read[0], read[1], read[0] - emptied[0], read[2] - emptied[2],
                    passSeconds, cleanNanos.value(), cleanRemoved));
            Map<String, Object> filterRemoved = new LinkedHashMap<>();
            for (DocFilter f : processor.filters().filters()) {
                long[] r = outcomes.getOrDefault("removed:" + f.name(), new long[3]);
                filterRemoved.put(f.name(), counts(r[0], r[2]));
            }
            stages.put("filter", stageWithRemoved(read[0] - emptied[0], read[2] - emptied[2], kept[0], kept[2],
                    passSeconds, filterNanos.value(), filterRemoved));
            LOG.info("[preprocess] read {} documents ({}), {} quarantined, {} removed by cleaning, {} by filters, {} kept",
                    read[0], Progress.human(read[1]), quarantined[0], emptied[0], read[0] - emptied[0] - kept[0], kept[0]);

            // 3. Exact duplicates: one representative (lowest id) per normalised-text hash; a hash an earlier run
            //    kept drops the whole group.
            SparkStages.stage(spark, JOB, "exact dedup");
            Progress exactProgress = new Progress("preprocess: exact dedup", kept[0], kept[2]);
            JavaRDD<Processed> keptDocs = processed.filter(Processed::isKept);
            Dataset<Row> earlierIndex = last == null ? null : DedupIndex.read(spark, new Path(target, last.index()).toString());
            JavaRDD<Clustered> exact;
            Map<String, Long> exactHistogram = new TreeMap<>();
            if (cfg.dedup().exact()) {
                JavaPairRDD<String, Tuple2<String, Long>> reps = keptDocs
                        .mapToPair(p -> new Tuple2<>(p.hash(), new Tuple2<>(p.document().id(), 1L)))
                        .reduceByKey((a, b) -> new Tuple2<>(a._1().compareTo(b._1()) <= 0 ? a._1() : b._1(), a._2() + b._2()), partitions)
                        .persist(StorageLevel.MEMORY_AND_DISK());
                exactHistogram = histogram(reps.values().map(Tuple2::_2));
                exact = keptDocs.mapToPair(p -> new Tuple2<>(p.hash(), p)).join(reps)
                        .map(t -> Clustered.exact(t._2()._1(), t._2()._2()._1(), t._2()._2()._2()));
                if (earlierIndex != null) {
                    JavaPairRDD<String, String> earlierHashes = DedupIndex.hashes(earlierIndex).reduceByKey(PreprocessPipeline::lowest, partitions);
                    exact = exact.mapToPair(x -> new Tuple2<>(x.p().hash(), x)).leftOuterJoin(earlierHashes, partitions)
                            .map(t -> t._2()._2().isPresent() ? t._2()._1().duplicateOf(t._2()._2().get(), EXACT_DUPLICATE_OF_EARLIER_RUN)
                                    : t._2()._1());
                }
            } else {
                exact = keptDocs.map(p -> Clustered.exact(p, p.document().id(), 1));
            }
            exact = exact.persist(StorageLevel.MEMORY_AND_DISK());
            Map<String, long[]> afterExact = byReason(exact);
            long[] exactReps = afterExact.getOrDefault(KEPT, new long[2]);
            exactProgress.add(kept[0], kept[2]);
            exactProgress.done();
            Map<String, Object> exactRemoved = new LinkedHashMap<>();
            for (String reason : List.of(EXACT_DUPLICATE, EXACT_DUPLICATE_OF_EARLIER_RUN)) {
                long[] r = afterExact.getOrDefault(reason, new long[2]);
                exactRemoved.put(reason, counts(r[0], r[1]));
            }
            Map<String, Object> exactStage = stageWithRemoved(kept[0], kept[2], exactReps[0], exactReps[1], exactProgress.elapsedSeconds(), -1,
                    exactRemoved);
            exactStage.put("enabled", cfg.dedup().exact());
            exactStage.put("duplicate_clusters", exactHistogram.values().stream().mapToLong(Long::longValue).sum());
            exactStage.put("cluster_sizes", exactHistogram);
            stages.put("exact_dedup", exactStage);

            // 4. Near duplicates among the new exact representatives: MinHash + LSH + connected components; a new
            //    document similar to one an earlier run kept is dropped and does not link new clusters.
            SparkStages.stage(spark, JOB, "near dedup");
            Progress nearProgress = new Progress("preprocess: near dedup", exactReps[0], exactReps[1]);
            JavaRDD<Clustered> clustered;
            JavaPairRDD<String, int[]> signatures = null;
            Runnable releaseNear = () -> { };
            Map<String, Object> nearStage = new LinkedHashMap<>();
            if (cfg.dedup().near()) {
                JavaPairRDD<String, String> idText = exact.filter(x -> x.reason() == null)
                        .mapToPair(x -> new Tuple2<>(x.id(), x.p().document().text()));
                NearDuplicates.Earlier earlierDocs = earlierIndex == null ? null
                        : new NearDuplicates.Earlier(DedupIndex.signatures(earlierIndex), earlierTexts(spark, jsc, target, earlier));
                NearDuplicates.Result nd = NearDuplicates.find(idText, earlierDocs, cfg.minhash(), partitions);
                // (exact representative id, (cluster, reason)) for every new representative that is not its own cluster
                JavaPairRDD<String, Tuple2<String, String>> outcome = nd.labels().mapValues(l -> new Tuple2<>(l, NEAR_DUPLICATE))
                        .union(nd.earlierMatches().mapValues(o -> new Tuple2<>(o, NEAR_DUPLICATE_OF_EARLIER_RUN)));
                clustered = exact.mapToPair(x -> new Tuple2<>(x.exactRep(), x)).leftOuterJoin(outcome, partitions)
                        .map(t -> {
                            Clustered x = t._2()._1();
                            Optional<Tuple2<String, String>> o = t._2()._2();
                            return o.isPresent() ? x.near(o.get()._1(), o.get()._2()) : x;
                        })
                        .persist(StorageLevel.MEMORY_AND_DISK());
                nearStage.put("candidate_pairs", nd.candidatePairs());
                nearStage.put("similar_pairs", nd.similarPairs());
                nearStage.put("oversized_buckets", nd.oversizedBuckets());
                nearStage.put("components_rounds", nd.rounds());
                nearStage.put("earlier_candidate_pairs", nd.earlierCandidatePairs());
                nearStage.put("earlier_similar_pairs", nd.earlierSimilarPairs());
                Map<String, Long> nearHistogram = histogram(nd.labels().mapToPair(t -> new Tuple2<>(t._2(), 1L))
                        .reduceByKey(Long::sum).values().map(n -> n + 1));
                nearStage.put("duplicate_clusters", nearHistogram.values().stream().mapToLong(Long::longValue).sum());
                nearStage.put("cluster_sizes", nearHistogram);
                signatures = nd.signatures();
                releaseNear = nd.release();
            } else {
                clustered = exact;
            }
            Map<String, long[]> afterNear = byReason(clustered);
            long[] nearReps = afterNear.getOrDefault(KEPT, new long[2]);
            nearProgress.add(exactReps[0], exactReps[1]);
            nearProgress.done();
            Map<String, Object> nearRemoved = new LinkedHashMap<>();
            for (String reason : List.of(NEAR_DUPLICATE, NEAR_DUPLICATE_OF_EARLIER_RUN)) {
                long[] r = afterNear.getOrDefault(reason, new long[2]);
                nearRemoved.put(reason, counts(r[0], r[1]));
            }
            Map<String, Object> near = stageWithRemoved(exactReps[0], exactReps[1], nearReps[0], nearReps[1], nearProgress.elapsedSeconds(), -1,
                    nearRemoved);
            near.put("enabled", cfg.dedup().near());
            near.put("shingles", cfg.minhash().ngram().name().toLowerCase() + " " + cfg.minhash().ngramSize() + "-grams");
            near.put("permutations", cfg.minhash().permutations());
            near.put("bands", cfg.minhash().bands());
            near.put("rows", cfg.minhash().rows());
            near.put("threshold", cfg.minhash().threshold());
            near.put("verify", cfg.minhash().verify());
            near.putAll(nearStage);
            stages.put("near_dedup", near);
            Map<String, Long> allClusters = histogram(clustered.mapToPair(x -> new Tuple2<>(x.cluster(), 1L)).reduceByKey(Long::sum).values());
            stats.put("duplicate_clusters", Map.of("count", allClusters.values().stream().mapToLong(Long::longValue).sum(), "sizes", allClusters));

            // 5. Write this run's documents, index snapshot, quarantine, removed samples, stats and manifest into the
            //    staging folder, then commit it.
            SparkStages.stage(spark, JOB, "write");
            String runName = RunManifest.runName(run);
            Path runStaging = new Path(new Path(staging, RunManifest.RUNS_DIR), runName);
            Path docsStaging = new Path(new Path(staging, RunManifest.DOCUMENTS_DIR), runName);
            Keep keep = cfg.dedup().keep();
            JavaRDD<Clustered> written = keep == Keep.ALL ? clustered : clustered.filter(x -> x.reason() == null);
            long outDocs = keep == Keep.ALL ? kept[0] : nearReps[0];
            long outBytes = keep == Keep.ALL ? kept[2] : nearReps[1];
            Progress writeProgress = new Progress("preprocess: write", outDocs, outBytes);
            int outFiles = cfg.output().files() > 0 ? cfg.output().files() : (int) Math.max(1, (outBytes + (128L << 20) - 1) / (128L << 20));
            JavaRDD<Row> rows = written.map(x -> {
                Document d = x.p().document();
                return RowFactory.create(d.id(), d.source(), d.text(), scala.collection.JavaConverters.mapAsScalaMapConverter(d.metadata()).asScala(),
                        x.p().hash(), x.cluster());
            });
            Dataset<Row> documents = spark.createDataFrame(rows, DOCUMENT_SCHEMA);
            documents.repartition(outFiles, col("id")).sortWithinPartitions("id")
                    .write().mode(SaveMode.ErrorIfExists).parquet(docsStaging.toString());

            // The index snapshot: the earlier one plus this run's representatives (with their signatures).
            JavaPairRDD<String, String> repHashes = clustered.filter(x -> x.reason() == null).mapToPair(x -> new Tuple2<>(x.id(), x.p().hash()));
            JavaRDD<DedupIndex.Entry> added = signatures == null
                    ? repHashes.map(t -> new DedupIndex.Entry(t._1(), t._2(), null))
                    : repHashes.leftOuterJoin(signatures, partitions)
                    .map(t -> new DedupIndex.Entry(t._1(), t._2()._1(), t._2()._2().isPresent() ? t._2()._2().get() : null));
            long indexDocuments = (last == null ? 0 : last.indexDocuments()) + nearReps[0];
            String indexRel = RunManifest.INDEX_DIR + "/" + runName;
            DedupIndex.write(spark, earlierIndex, added, (int) Math.max(1, Math.min(outFiles, indexDocuments / 1_000_000 + 1)),
                    new Path(staging, indexRel).toString());
            releaseNear.run();

            JavaRDD<Row> quarantineRows = processed.filter(Processed::isQuarantine)
                    .map(p -> RowFactory.create(p.quarantinePath(), p.quarantineReason()));
            spark.createDataFrame(quarantineRows, QUARANTINE_SCHEMA).coalesce(1).sortWithinPartitions("path", "reason")
                    .write().mode(SaveMode.ErrorIfExists).json(new Path(runStaging, "quarantine").toString());
            Map<String, Long> sampled = writeRemovedSamples(fs, new Path(runStaging, "removed-samples"), processed, clustered,
                    cfg.output().removedSamplesPerReason());
            writeProgress.add(outDocs, outBytes);
            writeProgress.done();
            Map<String, Object> writeStage = stage(outDocs, outBytes, outDocs, outBytes, writeProgress.elapsedSeconds(), -1, Map.of());
            writeStage.put("files", outFiles);
            writeStage.put("keep", keep.name().toLowerCase());
            writeStage.put("removed_samples", sampled);
            stages.put("write", writeStage);
            stats.put("stages", stages);
            stats.put("index", Map.of("documents_before", last == null ? 0 : last.indexDocuments(), "documents_after", indexDocuments));
            double total = (System.nanoTime() - jobStart) / 1e9;
            stats.put("seconds", round(total));
            stats.put("input_mb_per_second", round(inputBytes / 1e6 / total));
            stats.put("cores", parallelism);
            JsonNode config = lineage == null ? null : lineage.config();
            if (config != null) {
                stats.put("config", config);
                stats.put("lineage", lineage.toJson());
            }
            byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(stats);
            try (FSDataOutputStream out = fs.create(new Path(runStaging, "stats.json"), false)) {
                out.write(json);
            }
            List<InputLedger.Entry> inputs = files.stream()
                    .map(f -> new InputLedger.Entry(f.path(), f.length(), f.modificationTime(), sha.get(f.path()))).toList();
            new RunManifest(RunManifest.FORMAT_VERSION, run, Instant.now().toString(), inputs, listParquet(fs, staging, docsStaging),
                    outDocs, indexRel, indexDocuments, spec, config).write(fs, runStaging);
            if (incremental) {
                commitRun(fs, staging, target, run, json);
            } else {
                try (FSDataOutputStream out = fs.create(new Path(staging, "stats.json"), false)) {
                    out.write(json);
                }
                fs.create(new Path(staging, SUCCESS), false).close();
                AtomicOutput.commit(fs, staging, target);
            }
            LOG.info("[preprocess] run {}: wrote {} documents ({}) to {} in {}; the index holds {} documents", run, outDocs,
                    Progress.human(outBytes), new Path(target, RunManifest.DOCUMENTS_DIR + "/" + runName), Progress.duration(total), indexDocuments);
            processed.unpersist(false);
            exact.unpersist(false);
            clustered.unpersist(false);
            return stats;
        } finally {
            if (fs.exists(staging)) {
                fs.delete(staging, true);
            }
        }
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
        if (runs.isEmpty() && java.util.Arrays.stream(fs.listStatus(target)).map(st -> st.getPath().getName())
                .anyMatch(n -> !n.startsWith("_") && !n.startsWith(".") && !n.equals(dev.kiln.io.RunStatus.FILE_NAME))) {
            throw new IllegalStateException("kiln.preprocess.output.path " + target + " exists but holds no committed preprocess run "
                    + "(no " + RunManifest.RUNS_DIR + "/run=NNNN/" + RunManifest.FILE_NAME + "; an older Kiln layout or another folder); "
                    + "use a new output path, or --reprocess (kiln.preprocess.reprocess = true) to replace it");
        }
        return runs;
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
        out.sort(java.util.Comparator.comparing(RunManifest.FileEntry::path));
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
        return spark.read().schema(DOCUMENT_SCHEMA).parquet(paths).select("id", "text").javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0), r.getString(1)));
    }

    /**
     * Fails the run when the quarantined share of the records read exceeds
     * {@code kiln.preprocess.input.max-quarantined-fraction}, naming a few of them (their list is not written: the
     * run stops before writing anything).
     */
    private static void checkQuarantine(PreprocessConfig cfg, long quarantined, long documents, JavaRDD<Processed> processed) {
        double limit = cfg.input().maxQuarantinedFraction();
        if (!QuarantineBudget.exceeded(quarantined, documents, limit)) {
            return;
        }
        List<String> examples = processed.filter(Processed::isQuarantine).map(p -> p.quarantinePath() + ": " + p.quarantineReason()).take(5);
        throw new dev.kiln.io.BadInputException(QuarantineBudget.message(quarantined, documents, limit, examples));
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
                    return new Tuple2<>(p, Manifest.sha256(path.getFileSystem(conf.get()), path));
                })
                .collectAsMap());
    }

    /** Documents and bytes per duplicate reason, or {@link #KEPT} for representatives. */
    private static Map<String, long[]> byReason(JavaRDD<Clustered> docs) {
        return new TreeMap<>(docs.mapToPair(x -> new Tuple2<>(x.reason() == null ? KEPT : x.reason(), new long[]{1, x.p().bytesCleaned()}))
                .reduceByKey(PreprocessPipeline::sum)
                .collectAsMap());
    }

    private static String lowest(String a, String b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** removed-samples/&lt;reason&gt;.jsonl: the {@code perReason} removed documents with the lowest ids, per reason. */
    private static Map<String, Long> writeRemovedSamples(FileSystem fs, Path dir, JavaRDD<Processed> processed,
                                                         JavaRDD<Clustered> clustered, int perReason) throws IOException {
        fs.mkdirs(dir);
        Map<String, Long> written = new TreeMap<>();
        if (perReason == 0) {
            return written;
        }
        JavaPairRDD<String, Map<String, String>> removed = processed.filter(Processed::isRemoved)
                .mapToPair(p -> new Tuple2<>(p.removedBy(), sample(p.document(), null)));
        JavaPairRDD<String, Map<String, String>> duplicates = clustered.filter(x -> x.reason() != null)
                .mapToPair(x -> new Tuple2<>(x.reason(), sample(x.p().document(),
                        x.reason().equals(EXACT_DUPLICATE) ? x.exactRep() : x.cluster())));
        Map<String, TreeMap<String, Map<String, String>>> samples = removed.union(duplicates)
                .aggregateByKey(new TreeMap<String, Map<String, String>>(), (acc, s) -> keepLowest(acc, s, perReason),
                        (a, b) -> {
                            for (Map<String, String> s : b.values()) {
                                keepLowest(a, s, perReason);
                            }
                            return a;
                        })
                .collectAsMap();
        ObjectMapper json = new ObjectMapper();
        for (Map.Entry<String, TreeMap<String, Map<String, String>>> e : new TreeMap<>(samples).entrySet()) {
            StringBuilder sb = new StringBuilder();
            for (Map<String, String> s : e.getValue().values()) {
                sb.append(json.writeValueAsString(s)).append('\n');
            }
            try (FSDataOutputStream out = fs.create(new Path(dir, e.getKey() + ".jsonl"), false)) {
                out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
            written.put(e.getKey(), (long) e.getValue().size());
        }
        return written;
    }

    private static Map<String, String> sample(Document d, String duplicateOf) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("id", d.id());
        s.put("source", d.source());
        if (duplicateOf != null) {
            s.put("duplicate_of", duplicateOf);
        }
        String subject = d.metadata().get("subject");
        if (subject != null) {
            s.put("subject", subject);
        }
        s.put("text", d.text().length() > SAMPLE_TEXT_CHARS ? d.text().substring(0, SAMPLE_TEXT_CHARS) + " [...]" : d.text());
        return s;
    }

    private static TreeMap<String, Map<String, String>> keepLowest(TreeMap<String, Map<String, String>> acc, Map<String, String> s, int n) {
        acc.put(s.get("id") + "\u0000" + s.get("source"), s);
        while (acc.size() > n) {
            acc.pollLastEntry();
        }
        return acc;
    }

    /** Cluster sizes (only clusters of two or more) bucketed as 2, 3-4, 5-8, 9-16, ... */
    private static Map<String, Long> histogram(JavaRDD<Long> sizes) {
        Map<String, Long> raw = sizes.filter(n -> n > 1).map(PreprocessPipeline::sizeBucket).countByValue();
        Map<String, Long> sorted = new TreeMap<>((a, b) -> Long.compare(bucketStart(a), bucketStart(b)));
        sorted.putAll(raw);
        return new LinkedHashMap<>(sorted);
    }

    static String sizeBucket(long n) {
        if (n <= 2) {
            return "2";
        }
        long hi = Long.highestOneBit(n - 1) << 1; // smallest power of two >= n
        long lo = hi / 2 + 1;
        return lo + "-" + hi;
    }

    private static long bucketStart(String bucket) {
        int dash = bucket.indexOf('-');
        return Long.parseLong(dash < 0 ? bucket : bucket.substring(0, dash));
    }

    private static long[] sum(long[] a, long[] b) {
        long[] out = new long[Math.max(a.length, b.length)];
        for (int i = 0; i < out.length; i++) {
            out[i] = (i < a.length ? a[i] : 0) + (i < b.length ? b[i] : 0);
        }
        return out;
    }

    private static Map<String, Object> counts(long documents, long bytes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documents", documents);
        m.put("bytes", bytes);
        return m;
    }

    private static Map<String, Object> stage(long docsIn, long bytesIn, long docsOut, long bytesOut, double seconds,
                                             long taskNanos, Map<String, Object> extra) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documents_in", docsIn);
        m.put("bytes_in", bytesIn);
        m.put("documents_out", docsOut);
        m.put("bytes_out", bytesOut);
        m.put("seconds", round(seconds));
        if (taskNanos >= 0) {
            m.put("task_seconds", round(taskNanos / 1e9));
        }
        m.putAll(extra);
        return m;
    }

    private static Map<String, Object> stageWithRemoved(long docsIn, long bytesIn, long docsOut, long bytesOut, double seconds,
                                                        long taskNanos, Map<String, Object> removed) {
        Map<String, Object> m = stage(docsIn, bytesIn, docsOut, bytesOut, seconds, taskNanos, Map.of());
        m.put("removed", removed);
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** The records of a task's files, file after file, timing the reading into an accumulator. */
    private static final class TimedRecords implements Iterator<ReadRecord> {
        private final Iterator<InputFile> files;
        private final PreprocessConfig cfg;
        private final Configuration conf;
        private final LongAccumulator nanos;
        private Iterator<ReadRecord> current = java.util.Collections.emptyIterator();

        TimedRecords(List<InputFile> files, PreprocessConfig cfg, Configuration conf, LongAccumulator nanos) {
            this.files = files.iterator();
            this.cfg = cfg;
            this.conf = conf;
            this.nanos = nanos;
        }

        @Override
        public boolean hasNext() {
            long t = System.nanoTime();
            try {
                while (!current.hasNext() && files.hasNext()) {
                    current = FileReaders.read(files.next(), cfg.input(), cfg.clean(), conf);
                }
                return current.hasNext();
            } finally {
                nanos.add(System.nanoTime() - t);
            }
        }

        @Override
        public ReadRecord next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current.next();
        }
    }

    /** Used by tests and the benchmark: the names of all removal reasons a run can report. */
    public static List<String> removalReasons(PreprocessConfig cfg) {
        List<String> out = new ArrayList<>();
        out.add(DocumentProcessor.EMPTY_AFTER_CLEANING);
        for (DocFilter f : new DocumentProcessor(cfg.clean(), cfg.filter()).filters().filters()) {
            out.add(f.name());
        }
        out.add(EXACT_DUPLICATE);
        out.add(EXACT_DUPLICATE_OF_EARLIER_RUN);
        out.add(NEAR_DUPLICATE);
        out.add(NEAR_DUPLICATE_OF_EARLIER_RUN);
        return out;
    }
}
