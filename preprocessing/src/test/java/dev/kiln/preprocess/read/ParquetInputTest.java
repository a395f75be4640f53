package dev.kiln.preprocess.read;

import dev.kiln.preprocess.doc.Document;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.ReadAll;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parquet written by Spark, read back row by row with the text and id columns chosen in config. */
class ParquetInputTest {
    @TempDir
    Path dir;

    @Test
    void rowsBecomeDocumentsAndRowsWithoutTextAreQuarantined() throws Exception {
        SparkSession spark = LocalSpark.get();
        StructType schema = new StructType().add("doc_id", DataTypes.StringType).add("body", DataTypes.StringType)
                .add("year", DataTypes.IntegerType);
        spark.createDataFrame(List.of(RowFactory.create("a", "first text", 1790), RowFactory.create("b", null, 1791),
                        RowFactory.create("c", "third text", 1792)), schema)
                .coalesce(1).write().parquet(dir.resolve("table").toString());
        Files.write(dir.resolve("table").resolve("broken.parquet"), "PAR1 but not really".getBytes());
        Configuration conf = new Configuration();
        InputConfig in = PreprocessRuns.input(dir.resolve("table").toString(), "text-field", "body", "id-field", "doc_id");
        List<InputFile> files = InputListing.list(in.paths(), in.format(), conf);
        assertTrue(files.stream().allMatch(f -> f.format() == InputFormat.PARQUET), files.toString());
        List<ReadRecord> r = ReadAll.records(files, in, conf);
        List<Document> docs = r.stream().filter(x -> x instanceof ReadRecord.Read).map(x -> ((ReadRecord.Read) x).document()).toList();
        assertEquals(List.of("first text", "third text"), docs.stream().map(Document::text).toList());
        assertEquals("a", docs.get(0).metadata().get("source_id"));
        assertEquals("1792", docs.get(1).metadata().get("year"));
        List<ReadRecord.Quarantined> bad = r.stream().filter(x -> x instanceof ReadRecord.Quarantined).map(x -> (ReadRecord.Quarantined) x).toList();
        assertEquals(2, bad.size(), bad.toString());
        assertTrue(bad.stream().anyMatch(b -> b.path().endsWith("broken.parquet")), bad.toString());
        assertTrue(bad.stream().anyMatch(b -> b.reason().startsWith("row 2: no string column \"body\"")), bad.toString());
    }
}
