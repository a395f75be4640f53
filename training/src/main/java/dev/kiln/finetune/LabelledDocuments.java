package dev.kiln.finetune;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.tokenize.DocumentSplit;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;

/**
 * The labelled documents of a {@code kiln preprocess} output, tokenized with the parent's tokenizer, truncated to
 * the context, and split into train / validation / test.
 *
 * <p>The split is a pure function of the document's near-duplicate cluster ({@code cluster_id}; its own
 * {@code hash} without a cluster): every member of a cluster lands in the same split, so a near copy of a test mail can never sit in
 * the training split. Splitting by document instead, as the usual trainers do, lets a model score on test mails it
 * has in effect seen (SpamAssassin holds many near-identical spam runs and mailing-list digests).
 */
public final class LabelledDocuments {
    public static final String TRAIN = "train";
    public static final String VALIDATION = "validation";
    public static final String TEST = "test";

    /**
     * One document: its split, the key it was split by, its label and its tokens, truncated to windows x context
     * ({@link #windows} cuts them into the model's rows).
     */
    public record Example(String id, String contentHash, String split, String splitKey, String label, int[] ids)
            implements Serializable {
    }

    /** The examples by split (each sorted by content hash, then id) and the label set (sorted; class index = position). */
    public record Data(List<String> labels, List<Example> train, List<Example> validation, List<Example> test,
                       long emptyDocuments) {
        public List<Example> split(String name) {
            return switch (name) {
                case TRAIN -> train;
                case VALIDATION -> validation;
                case TEST -> test;
                default -> throw new IllegalArgumentException(name);
            };
        }

        public int classIndex(Example e) {
            return labels.indexOf(e.label());
        }
    }

    private LabelledDocuments() {
    }

    /**
     * The split of a split key: SHA-256 of the key read as u in [0, 1) (as {@code kiln tokenize} maps documents);
     * train below 1 - validation - test, then validation, then test. The same mapping as {@code kiln evaluate}'s
     * cluster splits with the same fractions.
     */
    public static String splitOf(String key, double validationFraction, double testFraction) {
        double u = DocumentSplit.unit(key);
        double train = 1 - validationFraction - testFraction;
        return u < train ? TRAIN : u < train + validationFraction ? VALIDATION : TEST;
    }

    /** The documents/ table of a preprocess output folder, or the folder itself when it is one. */
    static Path documentsFolder(FileSystem fs, Path given) throws IOException {
        if (!fs.exists(given)) {
            throw new InvalidConfigException(FinetuneConfig.SECTION + ".documents", null, given + " does not exist");
        }
        Path inner = new Path(given, "documents");
        return fs.isDirectory(inner) ? inner : given;
    }

    public static Data read(SparkSession spark, FinetuneConfig cfg, String tokenizerJson, String tokenizerPath,
                            int contextLength) throws IOException {
        String key = FinetuneConfig.SECTION + ".documents";
        Path given = new Path(cfg.documents());
        Path folder = documentsFolder(given.getFileSystem(spark.sparkContext().hadoopConfiguration()), given);
        Dataset<Row> docs;
        try {
            docs = spark.read().parquet(folder.toString());
        } catch (Exception e) {
            throw new InvalidConfigException(key, folder.toString(), "not a Parquet documents table: " + e.getMessage());
        }
        List<String> columns = Arrays.asList(docs.columns());
        for (String c : List.of("id", cfg.textColumn(), "hash")) {
            if (!columns.contains(c)) {
                throw new InvalidConfigException(key, folder.toString(), "has no column \"" + c + "\" (columns: " + columns + ")");
            }
        }
        Column label;
        if (cfg.labelColumn() != null) {
            if (!columns.contains(cfg.labelColumn())) {
                throw new InvalidConfigException(FinetuneConfig.SECTION + ".label.column", null, folder + " has no column \""
                        + cfg.labelColumn() + "\" (columns: " + columns + ")");
            }
            label = col(cfg.labelColumn()).cast("string");
        } else {
            if (!columns.contains("metadata")) {
                throw new InvalidConfigException(FinetuneConfig.SECTION + ".label.metadata-key", null, folder
                        + " has no metadata column (columns: " + columns + ")");
            }
            label = col("metadata").getItem(cfg.labelMetadataKey());
        }
        // The split key: the cluster_id (the document's own hash without one), the key `kiln evaluate`'s baselines
        // split by too, so the fine-tuned model and the baselines are scored on the same test documents.
        Dataset<Row> keyed = docs;
        Column splitKey = columns.contains("cluster_id") ? coalesce(col("cluster_id"), col("hash")) : col("hash");
        Dataset<Row> selected = keyed.select(col("id").cast("string"), col(cfg.textColumn()).cast("string"), label.as("label"),
                splitKey.cast("string").as("split_key"), docs.col("hash").cast("string").as("content_hash"));

        List<Row> unlabelled = selected.filter(col("label").isNull().or(org.apache.spark.sql.functions.trim(col("label")).equalTo("")))
                .select("id").limit(5).collectAsList();
        if (!unlabelled.isEmpty()) {
            long n = selected.filter(col("label").isNull().or(org.apache.spark.sql.functions.trim(col("label")).equalTo(""))).count();
            throw new InvalidConfigException(FinetuneConfig.SECTION + (cfg.labelColumn() != null ? ".label.column" : ".label.metadata-key"),
                    null, n + " document(s) of " + folder + " have no label (" + cfg.labelSource() + "), e.g. id "
                    + unlabelled.stream().map(r -> r.getString(0)).toList());
        }

        // The tokenizer (a few MB of JSON at a 32k vocabulary) travels by one broadcast, not in every task's closure.
        Broadcast<String> tokenizerBroadcast = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(tokenizerJson);
        List<Example> all;
        try {
            all = selected.toJavaRDD()
                    .mapPartitions(new Encode(tokenizerBroadcast, tokenizerPath, Math.multiplyExact(contextLength, cfg.windows()),
                            cfg.truncation(), cfg.validationFraction(), cfg.testFraction()))
                    .collect();
        } finally {
            tokenizerBroadcast.destroy();
        }
        long empty = all.stream().filter(e -> e.ids().length == 0).count();
        List<Example> kept = new ArrayList<>(all.stream().filter(e -> e.ids().length > 0).toList());
        // Content order (hash, then id): the training order must not depend on paths, which ids are made from.
        kept.sort(Comparator.comparing(Example::contentHash).thenComparing(Example::id));

        Map<String, List<Example>> bySplit = new TreeMap<>();
        for (String s : List.of(TRAIN, VALIDATION, TEST)) {
            bySplit.put(s, new ArrayList<>());
        }
        for (Example e : kept) {
            bySplit.get(e.split()).add(e);
        }
        TreeSet<String> labelSet = new TreeSet<>();
        bySplit.get(TRAIN).forEach(e -> labelSet.add(e.label()));
        if (labelSet.size() < 2) {
            throw new InvalidConfigException(key, folder.toString(), "the train split has " + bySplit.get(TRAIN).size()
                    + " documents with labels " + labelSet + ": classification needs at least 2 labels");
        }
        for (String s : List.of(VALIDATION, TEST)) {
            for (Example e : bySplit.get(s)) {
                if (!labelSet.contains(e.label())) {
                    throw new InvalidConfigException(key, folder.toString(), "document " + e.id() + " of the " + s
                            + " split has label \"" + e.label() + "\", which no training document has (train labels: "
                            + labelSet + ")");
                }
            }
        }
        return new Data(List.copyOf(labelSet), bySplit.get(TRAIN), bySplit.get(VALIDATION), bySplit.get(TEST), empty);
    }

    /** The first, last, or first and last tokens, at most {@code t} of them. */
    public static int[] truncate(int[] ids, int t, FinetuneConfig.Truncation mode) {
        if (ids.length <= t) {
            return ids;
        }
        return switch (mode) {
            case HEAD -> Arrays.copyOf(ids, t);
            case TAIL -> Arrays.copyOfRange(ids, ids.length - t, ids.length);
            case HEAD_TAIL -> {
                int head = (t + 1) / 2;
                int[] out = new int[t];
                System.arraycopy(ids, 0, out, 0, head);
                System.arraycopy(ids, ids.length - (t - head), out, head, t - head);
                yield out;
            }
        };
    }

    /**
     * The windows of a document's kept tokens: {@code ceil(n / t)} consecutive pieces of equal length (lengths differ
     * by at most one, the longer first), so no window is a stub of a few tokens; each is 1..t tokens.
     */
    public static List<int[]> windows(int[] ids, int t) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("a document without tokens has no windows");
        }
        int m = (ids.length + t - 1) / t;
        List<int[]> out = new ArrayList<>(m);
        int from = 0;
        for (int i = 0; i < m; i++) {
            int len = ids.length / m + (i < ids.length % m ? 1 : 0);
            out.add(Arrays.copyOfRange(ids, from, from + len));
            from += len;
        }
        return out;
    }

    /** Executor side: tokenize, truncate (to the windows' tokens) and split each document of a partition. */
    static final class Encode implements FlatMapFunction<Iterator<Row>, Example> {
        private final Broadcast<String> tokenizerJson;
        private final String tokenizerPath;
        /** Tokens kept per document: windows x context. */
        private final int keptTokens;
        private final FinetuneConfig.Truncation truncation;
        private final double validationFraction;
        private final double testFraction;

        Encode(Broadcast<String> tokenizerJson, String tokenizerPath, int keptTokens, FinetuneConfig.Truncation truncation,
               double validationFraction, double testFraction) {
            this.tokenizerJson = tokenizerJson;
            this.tokenizerPath = tokenizerPath;
            this.keptTokens = keptTokens;
            this.truncation = truncation;
            this.validationFraction = validationFraction;
            this.testFraction = testFraction;
        }

        @Override
        public Iterator<Example> call(Iterator<Row> rows) {
            BpeTokenizer tokenizer = TokenizerJson.read(tokenizerJson.value(), tokenizerPath);
            List<Example> out = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                String text = r.isNullAt(1) ? "" : r.getString(1);
                int[] ids = truncate(tokenizer.encode(text), keptTokens, truncation);
                String key = r.getString(3);
                out.add(new Example(r.getString(0), r.getString(4), splitOf(key, validationFraction, testFraction), key,
                        r.getString(2).trim(), ids));
            }
            return out.iterator();
        }
    }
}
