package dev.kiln.preprocess;

import dev.kiln.preprocess.doc.Document;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

import static org.apache.spark.sql.functions.col;

/**
 * Writes a run's documents as Parquet ({@link #SCHEMA}: id, source, text, metadata, hash, cluster_id), hash
 * partitioned and sorted by id, so the same documents give the same files whatever the input layout.
 */
final class DocumentsWriter {
    static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("source", DataTypes.StringType, false)
            .add("text", DataTypes.StringType, false)
            .add("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, false), false)
            .add("hash", DataTypes.StringType, false)
            .add("cluster_id", DataTypes.StringType, false);

    private DocumentsWriter() {
    }

    /** {@code docs} into {@code files} Parquet files under {@code dir}, which must not exist. */
    static void write(SparkSession spark, JavaRDD<Clustered> docs, int files, String dir) {
        JavaRDD<Row> rows = docs.map(x -> {
            Document d = x.p().document();
            return RowFactory.create(d.id(), d.source(), d.text(), JavaConverters.mapAsScalaMapConverter(d.metadata()).asScala(),
                    x.p().hash(), x.cluster());
        });
        spark.createDataFrame(rows, SCHEMA).repartition(files, col("id")).sortWithinPartitions("id")
                .write().mode(SaveMode.ErrorIfExists).parquet(dir);
    }
}
