package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.io.AtomicOutput;
import dev.kiln.preprocess.PreprocessConfig.Keep;
import dev.kiln.preprocess.dedup.NearDuplicates;
import dev.kiln.preprocess.filter.DocFilter;
import dev.kiln.preprocess.read.FileReaders;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputListing;
import dev.kiln.preprocess.read.ReadRecord;
import dev.kiln.progress.Progress;
import dev.kiln.spark.SparkStages;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.col;

/**
 * {@code kiln preprocess} on Spark: list inputs, read + clean + filter (one pass, per document, in the tasks), exact
 * dedup, near dedup, write. Everything is written under a staging folder next to the output and renamed onto it at
 * the end, so the output folder either is complete or does not change.
 */
public final class PreprocessPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(PreprocessPipeline.class);
    private static final String JOB = "preprocess";
    public static final String EXACT_DUPLICATE = "exact_duplicate";
    public static final String NEAR_DUPLICATE = "near_duplicate";
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

    /** A kept document with its exact-duplicate cluster and, after near dedup, its final cluster. */
    record Clustered(Processed p, String exactRep, long exactSize, String cluster) implements Serializable {
        String id() {
            return p.document().id();
        }

        /** Why this document is not a cluster representative, or null when it is one. */
        String duplicateReason() {
            if (!id().equals(exactRep)) {
                return EXACT_DUPLICATE;
            }
            return id().equals(cluster) ? null : NEAR_DUPLICATE;
        }
    }

    /**
     * Runs the job and returns the statistics it wrote to stats.json.
     *
     * @param configJson the effective {@code kiln.preprocess} section as JSON, recorded in stats.json (may be null)
     */
    public static Map<String, Object> run(SparkSession spark, PreprocessConfig cfg, String configJson) throws IOException {
        long jobStart = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        FileSystem fs = AtomicOutput.fs(cfg.output().path(), hconf);
        Path target = fs.makeQualified(new Path(cfg.output().path()));
        Path staging = AtomicOutput.stagingFor(target);
        Map<String, Object> stats = new LinkedHashMap<>();
        Map<String, Object> stages = new LinkedHashMap<>();
        stats.put("job", JOB);
        stats.put("spark_version", spark.version());
        stats.put("output", target.toString());
        try {
            // 1. List inputs (driver: names and sizes only).
            SparkStages.stage(spark, JOB, "list inputs");
            List<InputFile> files = InputListing.list(cfg.input().paths(), cfg.input().format(), hconf);
            long inputBytes = files.stream().mapToLong(InputFile::length).sum();
            int parallelism = jsc.defaultParallelism();
            int partitions = (int) Math.max(parallelism, Math.min(100_000, inputBytes / (64L << 20)));
            long perTask = Math.max(1, Math.min(cfg.input().bytesPerTask(), inputBytes / (2L * parallelism)));
            List<List<InputFile>> tasks = InputListing.tasks(files, perTask);
            LOG.info("[preprocess] {} input files, {} in {} read tasks; {} shuffle partitions",
                    files.size(), Progress.human(inputBytes), tasks.size(), partitions);
            stats.put("input", Map.of("paths", cfg.input().paths(), "files", files.size(), "bytes", inputBytes));

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

            // 3. Exact duplicates: one representative (lowest id) per normalised-text hash.
            SparkStages.stage(spark, JOB, "exact dedup");
            Progress exactProgress = new Progress("preprocess: exact dedup", kept[0], kept[2]);
            JavaRDD<Processed> keptDocs = processed.filter(Processed::isKept);
            JavaRDD<Clustered> exact;
            Map<String, Long> exactHistogram = new TreeMap<>();
            if (cfg.dedup().exact()) {
                JavaPairRDD<String, Tuple2<String, Long>> reps = keptDocs
                        .mapToPair(p -> new Tuple2<>(p.hash(), new Tuple2<>(p.document().id(), 1L)))
                        .reduceByKey((a, b) -> new Tuple2<>(a._1().compareTo(b._1()) <= 0 ? a._1() : b._1(), a._2() + b._2()), partitions)
                        .persist(StorageLevel.MEMORY_AND_DISK());
                exactHistogram = histogram(reps.values().map(Tuple2::_2));
                exact = keptDocs.mapToPair(p -> new Tuple2<>(p.hash(), p)).join(reps)
                        .map(t -> new Clustered(t._2()._1(), t._2()._2()._1(), t._2()._2()._2(), t._2()._2()._1()));
            } else {
                exact = keptDocs.map(p -> new Clustered(p, p.document().id(), 1, p.document().id()));
            }
            exact = exact.persist(StorageLevel.MEMORY_AND_DISK());
            long[] exactReps = exact.filter(x -> x.id().equals(x.exactRep()))
                    .map(x -> new long[]{1, x.p().bytesCleaned()}).fold(new long[2], PreprocessPipeline::sum);
            exactProgress.add(kept[0], kept[2]);
            exactProgress.done();
            Map<String, Object> exactStage = stageWithRemoved(kept[0], kept[2], exactReps[0], exactReps[1], exactProgress.elapsedSeconds(), -1,
                    Map.of(EXACT_DUPLICATE, counts(kept[0] - exactReps[0], kept[2] - exactReps[1])));
            exactStage.put("enabled", cfg.dedup().exact());
            exactStage.put("duplicate_clusters", exactHistogram.values().stream().mapToLong(Long::longValue).sum());
            exactStage.put("cluster_sizes", exactHistogram);
            stages.put("exact_dedup", exactStage);

            // 4. Near duplicates among the exact representatives: MinHash + LSH + connected components.
            SparkStages.stage(spark, JOB, "near dedup");
            Progress nearProgress = new Progress("preprocess: near dedup", exactReps[0], exactReps[1]);
            JavaRDD<Clustered> clustered;
            JavaPairRDD<String, String> nearLabels = null;
            Map<String, Object> nearStage = new LinkedHashMap<>();
            if (cfg.dedup().near()) {
                JavaPairRDD<String, String> idText = exact.filter(x -> x.id().equals(x.exactRep()))
                        .mapToPair(x -> new Tuple2<>(x.id(), x.p().document().text()));
                NearDuplicates.Result nd = NearDuplicates.find(idText, cfg.minhash(), partitions);
                JavaPairRDD<String, String> labels = nd.labels();
                clustered = exact.mapToPair(x -> new Tuple2<>(x.exactRep(), x)).leftOuterJoin(labels, partitions)
                        .map(t -> {
                            Clustered x = t._2()._1();
                            Optional<String> label = t._2()._2();
                            return new Clustered(x.p(), x.exactRep(), x.exactSize(), label.isPresent() ? label.get() : x.exactRep());
                        })
                        .persist(StorageLevel.MEMORY_AND_DISK());
                nearStage.put("candidate_pairs", nd.candidatePairs());
                nearStage.put("similar_pairs", nd.similarPairs());
                nearStage.put("oversized_buckets", nd.oversizedBuckets());
                nearStage.put("components_rounds", nd.rounds());
                Map<String, Long> nearHistogram = histogram(labels.mapToPair(t -> new Tuple2<>(t._2(), 1L))
                        .reduceByKey(Long::sum).values().map(n -> n + 1));
                nearStage.put("duplicate_clusters", nearHistogram.values().stream().mapToLong(Long::longValue).sum());
                nearStage.put("cluster_sizes", nearHistogram);
                nearLabels = labels;
            } else {
                clustered = exact;
            }
            long[] nearReps = clustered.filter(x -> x.duplicateReason() == null)
                    .map(x -> new long[]{1, x.p().bytesCleaned()}).fold(new long[2], PreprocessPipeline::sum);
            if (nearLabels != null) {
                nearLabels.unpersist(false); // clustered is materialised now
            }
            nearProgress.add(exactReps[0], exactReps[1]);
            nearProgress.done();
            Map<String, Object> near = stageWithRemoved(exactReps[0], exactReps[1], nearReps[0], nearReps[1], nearProgress.elapsedSeconds(), -1,
                    Map.of(NEAR_DUPLICATE, counts(exactReps[0] - nearReps[0], exactReps[1] - nearReps[1])));
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

            // 5. Write documents, quarantine, removed samples and stats into the staging folder, then commit it.
            SparkStages.stage(spark, JOB, "write");
            Keep keep = cfg.dedup().keep();
            JavaRDD<Clustered> written = keep == Keep.ALL ? clustered : clustered.filter(x -> x.duplicateReason() == null);
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
                    .write().mode(SaveMode.ErrorIfExists).parquet(new Path(staging, "documents").toString());
            JavaRDD<Row> quarantineRows = processed.filter(Processed::isQuarantine)
                    .map(p -> RowFactory.create(p.quarantinePath(), p.quarantineReason()));
            spark.createDataFrame(quarantineRows, QUARANTINE_SCHEMA).coalesce(1).sortWithinPartitions("path", "reason")
                    .write().mode(SaveMode.ErrorIfExists).json(new Path(staging, "quarantine").toString());
            Map<String, Long> sampled = writeRemovedSamples(fs, new Path(staging, "removed-samples"), processed, clustered,
                    cfg.output().removedSamplesPerReason());
            writeProgress.add(outDocs, outBytes);
            writeProgress.done();
            Map<String, Object> writeStage = stage(outDocs, outBytes, outDocs, outBytes, writeProgress.elapsedSeconds(), -1, Map.of());
            writeStage.put("files", outFiles);
            writeStage.put("keep", keep.name().toLowerCase());
            writeStage.put("removed_samples", sampled);
            stages.put("write", writeStage);
            stats.put("stages", stages);
            double total = (System.nanoTime() - jobStart) / 1e9;
            stats.put("seconds", round(total));
            stats.put("input_mb_per_second", round(inputBytes / 1e6 / total));
            stats.put("cores", parallelism);
            if (configJson != null) {
                stats.put("config", new ObjectMapper().readTree(configJson));
            }
            byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(stats);
            try (FSDataOutputStream out = fs.create(new Path(staging, "stats.json"), false)) {
                out.write(json);
            }
            AtomicOutput.commit(fs, staging, target);
            LOG.info("[preprocess] wrote {} documents ({}) to {} in {}", outDocs, Progress.human(outBytes), target, Progress.duration(total));
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
        JavaPairRDD<String, Map<String, String>> duplicates = clustered.filter(x -> x.duplicateReason() != null)
                .mapToPair(x -> new Tuple2<>(x.duplicateReason(), sample(x.p().document(),
                        x.duplicateReason().equals(EXACT_DUPLICATE) ? x.exactRep() : x.cluster())));
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
        out.add(NEAR_DUPLICATE);
        return out;
    }
}
