package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.samples.SampleCorpora;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole job through Spark local[2] on the real SpamAssassin corpus. */
class PreprocessPipelineTest {
    @TempDir
    Path tmp;

    @Test
    void wholeSpamAssassinCorpusFindsExactAndNearDuplicates() throws Exception {
        SparkSession spark = LocalSpark.get();
        Path corpus = SampleCorpora.spamAssassin();
        Path out = tmp.resolve("out");
        PreprocessConfig cfg = PreprocessRuns.config(
                "input.paths", corpus + "/*/*.txt", "input.format", "mail",
                "filter.min-words", "20", "output.path", out.toString());
        Map<String, Object> stats = PreprocessPipeline.run(spark, cfg, null);

        JsonNode json = new ObjectMapper().readTree(out.resolve("stats.json").toFile());
        System.out.println(json.toPrettyString());
        assertEquals(6046, json.at("/input/files").asLong());
        assertEquals(6046, json.at("/stages/read/documents_out").asLong() + json.at("/stages/read/quarantined").asLong());
        assertTrue(json.at("/stages/exact_dedup/removed/exact_duplicate/documents").asLong() > 50, "the corpus has many exact duplicates");
        assertTrue(json.at("/stages/near_dedup/removed/near_duplicate/documents").asLong() > 50, "and many near duplicates");

        Dataset<Row> docs = spark.read().parquet(out.resolve("documents").toString());
        long n = docs.count();
        assertEquals(json.at("/stages/write/documents_out").asLong(), n);
        assertEquals(n, docs.select("id").distinct().count(), "ids are unique");
        assertEquals(n, docs.select("hash").distinct().count(), "no exact duplicates remain");
        assertEquals(n, docs.filter(col("cluster_id").equalTo(col("id"))).count(), "only representatives are written");
        List<Row> labels = docs.select(col("metadata").getItem("label")).distinct().collectAsList();
        assertEquals(2, labels.size(), "spam and ham labels from the folders: " + labels);
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(out), s.toList(), "no staging folder is left behind");
        }
        assertTrue(Files.isDirectory(out.resolve("quarantine")));
        assertTrue(Files.isRegularFile(out.resolve("removed-samples").resolve("near_duplicate.jsonl")));
        assertFalse(stats.isEmpty());
    }
}
