package dev.kiln.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.preprocess.dedup.MinHashConfig;
import dev.kiln.preprocess.dedup.NearDuplicates;
import dev.kiln.testing.InjectedDuplicates;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.ml.feature.HashingTF;
import org.apache.spark.ml.feature.MinHashLSH;
import org.apache.spark.ml.feature.MinHashLSHModel;
import org.apache.spark.ml.feature.NGram;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

/**
 * Near-duplicate removal, Kiln vs Spark MLlib, in one process on one corpus at one Jaccard threshold.
 *
 * <p>Corpus: the real SOTU speeches cut into ~1,500-word documents, 40% of them given 1-3 injected copies (exact,
 * case/spacing-only, or word edits at 1, 2, 3 or 5%), so the true clusters are known. Kiln: {@link NearDuplicates}
 * (word 5-grams, 128 permutations, bands x rows derived from the threshold, exact-Jaccard verification, distributed
 * connected components). MLlib: RegexTokenizer -> NGram(5) -> HashingTF(2^20, binary) -> MinHashLSH ->
 * approxSimilarityJoin(distance < 1 - threshold); its pairs are closed transitively (union-find, untimed) so both are
 * scored the same way: pairwise precision/recall of the clusters against the truth. Each system runs once cold, then
 * {@code runs} more times; the median warm time is reported. Then the whole preprocess job runs on the same corpus
 * (JSON Lines) and on the SpamAssassin mail, for throughput in MB/s per core.
 *
 * <p>Arguments: {@code [threshold=0.5] [runs=3] [mllibTables=5]}; {@code -Dspark.master} (default local[2]).
 */
public final class NearDupBenchmark {
    private NearDupBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        double threshold = args.length > 0 ? Double.parseDouble(args[0]) : 0.5;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int tables = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        SparkSession spark = SparkSession.builder()
                .master(System.getProperty("spark.master", "local[2]"))
                .appName("kiln near-dup benchmark")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        int cores = spark.sparkContext().defaultParallelism();

        List<InjectedDuplicates.Doc> docs = InjectedDuplicates.generate(SampleCorpora.sotu(), 1500, 0, 0.4, 42);
        long bytes = docs.stream().mapToLong(d -> d.text().getBytes(StandardCharsets.UTF_8).length).sum();
        Map<String, Long> kinds = new HashMap<>();
        docs.forEach(d -> kinds.merge(d.kind(), 1L, Long::sum));
        System.out.printf(Locale.ROOT, "corpus: %,d documents, %.1f MB, injected copies %s; threshold J >= %.2f; %s, %d cores%n",
                docs.size(), bytes / 1e6, kinds, threshold, spark.sparkContext().master(), cores);

        StructType schema = new StructType().add("id", DataTypes.StringType).add("text", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        docs.forEach(d -> rows.add(RowFactory.create(d.id(), d.text())));
        Dataset<Row> corpus = spark.createDataFrame(rows, schema).repartition(cores * 2).cache();
        corpus.count();

        MinHashConfig kilnCfg = PreprocessRuns.minhash("threshold", Double.toString(threshold));
        int partitions = cores * 2;
        List<Double> kilnTimes = new ArrayList<>();
        List<Double> mllibTimes = new ArrayList<>();
        Map<String, String> kilnClusters = null;
        Map<String, String> mllibClusters = null;
        for (int run = 0; run <= runs; run++) {
            long t0 = System.nanoTime();
            JavaPairRDD<String, String> idText = corpus.javaRDD().mapToPair(r -> new Tuple2<>(r.getString(0), r.getString(1)));
            NearDuplicates.Result kiln = NearDuplicates.find(idText, kilnCfg, partitions);
            kilnClusters = kiln.labels().collectAsMap();
            kilnTimes.add((System.nanoTime() - t0) / 1e9);

            long t1 = System.nanoTime();
            List<String[]> pairs = mllib(corpus, threshold, tables);
            mllibTimes.add((System.nanoTime() - t1) / 1e9);
            mllibClusters = unionFind(pairs);
            System.out.printf(Locale.ROOT, "  run %d%s: kiln %.2f s (%d candidates, %d similar pairs, %d CC rounds), mllib %.2f s (%d pairs)%n",
                    run, run == 0 ? " (cold)" : "", kilnTimes.get(run), kiln.candidatePairs(), kiln.similarPairs(), kiln.rounds(),
                    mllibTimes.get(run), pairs.size());
        }
        InjectedDuplicates.Score ks = InjectedDuplicates.score(docs, kilnClusters);
        InjectedDuplicates.Score ms = InjectedDuplicates.score(docs, mllibClusters);
        double kw = median(kilnTimes.subList(1, kilnTimes.size()));
        double mw = median(mllibTimes.subList(1, mllibTimes.size()));
        System.out.println();
        System.out.printf(Locale.ROOT, "%-58s %9s %9s %10s %8s%n", "near-dup stage", "cold s", "warm s", "precision", "recall");
        System.out.printf(Locale.ROOT, "%-58s %9.2f %9.2f %10.4f %8.4f%n",
                String.format(Locale.ROOT, "Kiln MinHash-LSH (%d x %d, verified, CC)", kilnCfg.bands(), kilnCfg.rows()),
                kilnTimes.get(0), kw, ks.precision(), ks.recall());
        System.out.printf(Locale.ROOT, "%-58s %9.2f %9.2f %10.4f %8.4f%n",
                "MLlib MinHashLSH approxSimilarityJoin (" + tables + " tables)", mllibTimes.get(0), mw, ms.precision(), ms.recall());
        System.out.printf(Locale.ROOT, "speed-up Kiln vs MLlib: %.1fx warm, %.1fx cold%n", mw / kw, mllibTimes.get(0) / kilnTimes.get(0));
        System.out.println("Kiln:  " + ks);
        System.out.println("MLlib: " + ms);

        // Whole preprocess job throughput.
        Path work = Files.createTempDirectory("kiln-bench-");
        Path jsonl = Files.createDirectories(work.resolve("corpus"));
        ObjectMapper om = new ObjectMapper();
        for (int f = 0; f < 8; f++) {
            try (BufferedWriter w = Files.newBufferedWriter(jsonl.resolve("part-" + f + ".jsonl"))) {
                for (int i = f; i < docs.size(); i += 8) {
                    w.write(om.writeValueAsString(Map.of("id", docs.get(i).id(), "text", docs.get(i).text())));
                    w.write('\n');
                }
            }
        }
        System.out.println();
        throughput(spark, "injected-duplicates corpus (JSON Lines)", cores,
                PreprocessRuns.config("input.paths", jsonl.toString(), "input.id-field", "id",
                        "minhash.threshold", Double.toString(threshold), "output.path", work.resolve("out-jsonl").toString()));
        throughput(spark, "SpamAssassin raw mail (6,046 files)", cores,
                PreprocessRuns.config("input.paths", SampleCorpora.spamAssassin() + "/*/*.txt", "input.format", "mail",
                        "filter.min-words", "20", "output.path", work.resolve("out-mail").toString()));
        spark.stop();
    }

    /** Runs the whole job twice (cold, warm) and prints input MB/s per core. */
    private static void throughput(SparkSession spark, String name, int cores, PreprocessConfig cfg) throws Exception {
        for (String run : List.of("cold", "warm")) {
            // The warm run reprocesses: over the same output, an incremental run would find nothing new.
            PreprocessConfig c = run.equals("cold") ? cfg
                    : new PreprocessConfig(cfg.input(), cfg.clean(), cfg.language(), cfg.filter(), cfg.dedup(), cfg.minhash(), cfg.output(), true);
            Map<String, Object> stats = PreprocessPipeline.run(spark, c, TestLineage.preprocess(spark));
            @SuppressWarnings("unchecked")
            Map<String, Object> input = (Map<String, Object>) stats.get("input");
            double seconds = ((Number) stats.get("seconds")).doubleValue();
            double mb = ((Number) input.get("bytes")).longValue() / 1e6;
            System.out.printf(Locale.ROOT, "preprocess job, %s, %s: %.1f MB in %.2f s = %.2f MB/s, %.2f MB/s per core%n",
                    name, run, mb, seconds, mb / seconds, mb / seconds / cores);
        }
    }

    /** MLlib's pipeline; returns the (idA, idB) pairs with Jaccard distance below 1 - threshold, idA < idB. */
    private static List<String[]> mllib(Dataset<Row> corpus, double threshold, int tables) {
        Dataset<Row> tokens = new RegexTokenizer().setInputCol("text").setOutputCol("words").setPattern("[^\\p{L}\\p{N}]+")
                .setToLowercase(true).transform(corpus);
        Dataset<Row> grams = new NGram().setN(5).setInputCol("words").setOutputCol("grams").transform(tokens);
        Dataset<Row> features = new HashingTF().setInputCol("grams").setOutputCol("features").setNumFeatures(1 << 20)
                .setBinary(true).transform(grams);
        // MinHashLSH rejects empty vectors (documents shorter than 5 words).
        features = features.filter(udf((SparseVector v) -> v.numNonzeros() > 0, DataTypes.BooleanType).apply(col("features")))
                .select("id", "features").cache();
        MinHashLSHModel model = new MinHashLSH().setNumHashTables(tables).setSeed(42).setInputCol("features")
                .setOutputCol("hashes").fit(features);
        Dataset<Row> joined = model.approxSimilarityJoin(features, features, 1 - threshold, "distance")
                .select(col("datasetA.id").as("a"), col("datasetB.id").as("b"))
                .filter(col("a").lt(col("b")));
        List<String[]> out = new ArrayList<>();
        for (Row r : joined.collectAsList()) {
            out.add(new String[]{r.getString(0), r.getString(1)});
        }
        features.unpersist();
        return out;
    }

    private static Map<String, String> unionFind(List<String[]> pairs) {
        Map<String, String> parent = new HashMap<>();
        for (String[] p : pairs) {
            String a = find(parent, p[0]);
            String b = find(parent, p[1]);
            if (!a.equals(b)) {
                parent.put(a.compareTo(b) < 0 ? b : a, a.compareTo(b) < 0 ? a : b);
            }
        }
        Map<String, String> out = new HashMap<>();
        for (String n : new ArrayList<>(parent.keySet())) {
            out.put(n, find(parent, n));
        }
        return out;
    }

    private static String find(Map<String, String> parent, String x) {
        String p = parent.getOrDefault(x, x);
        if (p.equals(x)) {
            return x;
        }
        String r = find(parent, p);
        parent.put(x, r);
        return r;
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
