package dev.kiln.preprocess.dedup;

import dev.kiln.documents.IndexSpec;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;
import scala.collection.JavaConverters;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The cross-run dedup index: one row per document kept by any run so far (id, exact hash, MinHash signature), so a
 * later run can drop new documents that duplicate published ones without re-reading or re-hashing them. Run N
 * writes a complete snapshot {@code index/run=NNNN/} (the previous snapshot plus run N's kept documents) next to its
 * documents; it counts only once run N's manifest is committed. Signatures, not band keys, are stored, so bands, rows
 * and the threshold may change between runs; how the signatures were made ({@link IndexSpec}) may not.
 */
public final class DedupIndex {
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("hash", DataTypes.StringType, false)
            .add("signature", DataTypes.createArrayType(DataTypes.IntegerType, false), true);

    private DedupIndex() {
    }

    /** How this run's signatures are made ({@code near}: whether the snapshot holds signatures), as its manifest records it. */
    public static IndexSpec spec(boolean near, MinHashConfig c) {
        return new IndexSpec(near, c.ngram().name().toLowerCase(Locale.ROOT), c.ngramSize(), c.permutations(), c.seed(),
                c.unspacedNgramSize());
    }

    /** One kept document as the index stores it; {@code signature} is null without near dedup or without shingles. */
    public record Entry(String id, String hash, int[] signature) implements Serializable {
        Row toRow() {
            // Spark's row encoder takes a Scala Seq for an array column
            return RowFactory.create(id, hash, signature == null ? null
                    : JavaConverters.asScalaBuffer(toList(signature)).toSeq());
        }
    }

    public static Dataset<Row> read(SparkSession spark, String path) {
        return spark.read().schema(SCHEMA).parquet(path);
    }

    /** Writes a snapshot: the previous one (may be null) plus {@code added}. */
    public static void write(SparkSession spark, Dataset<Row> previous, JavaRDD<Entry> added, int files, String path) {
        Dataset<Row> rows = spark.createDataFrame(added.map(Entry::toRow), SCHEMA);
        if (previous != null) {
            rows = previous.unionByName(rows);
        }
        rows.repartition(files).sortWithinPartitions("id").write().mode(SaveMode.ErrorIfExists).parquet(path);
    }

    /** (exact hash, id) of every indexed document. */
    public static JavaPairRDD<String, String> hashes(Dataset<Row> index) {
        return index.select("hash", "id").javaRDD().mapToPair(r -> new Tuple2<>(r.getString(0), r.getString(1)));
    }

    /** (id, signature) of every indexed document that has one. */
    public static JavaPairRDD<String, int[]> signatures(Dataset<Row> index) {
        return index.select("id", "signature").filter("signature is not null").javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0), toArray(r.getList(1))));
    }

    private static List<Integer> toList(int[] a) {
        List<Integer> out = new ArrayList<>(a.length);
        for (int v : a) {
            out.add(v);
        }
        return out;
    }

    private static int[] toArray(List<Integer> l) {
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.get(i);
        }
        return out;
    }
}
