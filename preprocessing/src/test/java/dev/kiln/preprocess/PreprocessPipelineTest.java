package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.clean.CleaningSteps;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
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
        Map<String, Object> stats = PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark));

        JsonNode json = new ObjectMapper().readTree(out.resolve("stats.json").toFile());
        System.out.println(json.toPrettyString());
        assertEquals(6046, json.at("/input/files").asLong());
        assertEquals(6046, json.at("/stages/read/documents_out").asLong() + json.at("/stages/read/quarantined").asLong());
        assertTrue(json.at("/stages/exact_dedup/removed/exact_duplicate/documents").asLong() > 50, "the corpus has many exact duplicates");
        assertTrue(json.at("/stages/near_dedup/removed/near_duplicate/documents").asLong() > 50, "and many near duplicates");
        // Every cleaning step and filter, in pipeline order: documents in, kept, dropped by reason and its time.
        List<String> names = new ArrayList<>();
        long in = json.at("/stages/read/documents_out").asLong();
        for (String stage : List.of("clean", "filter")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = json.at("/stages/" + stage + "/steps").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> step = it.next();
                names.add(step.getKey());
                JsonNode st = step.getValue();
                assertEquals(in, st.path("documents_in").asLong(), step.getKey() + " sees what the step before kept");
                long dropped = 0;
                for (JsonNode d : st.path("dropped")) {
                    dropped += d.path("documents").asLong();
                }
                assertEquals(in - dropped, st.path("documents_kept").asLong(), step.getKey());
                if (in > 0) {
                    assertTrue(st.path("task_seconds").asDouble() > 0, step.getKey() + " saw documents, so it took time: " + st);
                }
                if (json.at("/stages/" + stage + "/removed").has(step.getKey())) {
                    assertEquals(json.at("/stages/" + stage + "/removed/" + step.getKey()), st.path("dropped").path(step.getKey()));
                }
                in = st.path("documents_kept").asLong();
            }
        }
        assertEquals(json.at("/stages/filter/documents_out").asLong(), in);
        assertEquals(List.of("mail_html_to_text", "strip_mail_headers", "html_to_text"), names.subList(0, 3), "the mail steps first");
        assertTrue(names.contains(CleaningSteps.EMPTY_AFTER_CLEANING) && names.size() > 10, names.toString());
        assertTrue(json.at("/stages/filter/steps").size() > 5);

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
        assertTrue(Files.isDirectory(out.resolve("runs/run=0001/quarantine")));
        assertTrue(Files.isRegularFile(out.resolve("runs/run=0001/removed-samples").resolve("near_duplicate.jsonl")));
        assertTrue(Files.isRegularFile(out.resolve("runs/run=0001/manifest.json")));
        assertTrue(Files.isRegularFile(out.resolve("_SUCCESS")));
        assertFalse(stats.isEmpty());
    }

    /**
     * Mixed JSON input (SOTU speeches with year/name metadata, an injected copy, bad records and files) twice: bad
     * input is quarantined with reasons, good records go through, and the second run writes the same rows.
     */
    @Test
    void badInputIsQuarantinedAndRerunsAreIdentical() throws Exception {
        SparkSession spark = LocalSpark.get();
        Path in = Files.createDirectories(tmp.resolve("in"));
        List<Path> speeches;
        try (Stream<Path> s = Files.list(SampleCorpora.sotu())) {
            speeches = s.filter(p -> p.toString().endsWith(".json")).sorted().limit(30).toList();
        }
        for (Path p : speeches) {
            Files.copy(p, in.resolve(p.getFileName()));
        }
        // An exact copy (differing only in case) and a near copy of the first speech, under other names.
        JsonNode first = new ObjectMapper().readTree(speeches.get(0).toFile());
        String text = first.get("text").asText();
        ObjectMapper om = new ObjectMapper();
        Files.writeString(in.resolve("copy-upper.json"), om.writeValueAsString(Map.of("text", text.toUpperCase(), "year", "1790")));
        Files.writeString(in.resolve("copy-near.json"), om.writeValueAsString(Map.of("text",
                text.replaceFirst("Fellow-Citizens", "Friends").replace(" the ", " our "), "year", "1790")));
        Files.write(in.resolve("empty.json"), new byte[0]);
        Files.write(in.resolve("broken.jsonl.gz"), "not gzip".getBytes());
        Files.writeString(in.resolve("no-text.json"), "{\"body\": \"x\"}\n");
        Files.write(in.resolve("bad-utf8.json"), new byte[]{'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xFF, '"', '}'});

        PreprocessConfig cfg1 = PreprocessRuns.config("input.paths", in.toString(), "output.path", tmp.resolve("run1").toString(),
                "minhash.threshold", "0.3");
        PreprocessPipeline.run(spark, cfg1, TestLineage.preprocess(spark));
        PreprocessConfig cfg2 = PreprocessRuns.config("input.paths", in.toString(), "output.path", tmp.resolve("run2").toString(),
                "minhash.threshold", "0.3");
        PreprocessPipeline.run(spark, cfg2, TestLineage.preprocess(spark));

        List<Row> quarantine = spark.read().json(tmp.resolve("run1/runs/run=0001/quarantine").toString()).orderBy("path").collectAsList();
        assertEquals(4, quarantine.size(), quarantine.toString());
        assertTrue(quarantine.get(0).getString(quarantine.get(0).fieldIndex("reason")).contains("invalid UTF-8"), quarantine.toString());
        assertTrue(quarantine.get(1).getString(1).contains("ZipException") || quarantine.get(1).getString(0).contains("ZipException"), quarantine.toString());

        JsonNode stats = om.readTree(tmp.resolve("run1/stats.json").toFile());
        assertEquals(4, stats.at("/stages/read/quarantined").asLong());
        assertEquals(32, stats.at("/stages/read/documents_out").asLong());
        assertEquals(1, stats.at("/stages/exact_dedup/removed/exact_duplicate/documents").asLong());
        assertEquals(1, stats.at("/stages/near_dedup/removed/near_duplicate/documents").asLong());

        Dataset<Row> docs1 = spark.read().parquet(tmp.resolve("run1/documents").toString());
        Dataset<Row> docs2 = spark.read().parquet(tmp.resolve("run2/documents").toString());
        assertEquals(30, docs1.count());
        assertEquals(docs1.orderBy("id").collectAsList(), docs2.orderBy("id").collectAsList(), "same input, same output");
        assertEquals(1, docs1.filter(col("metadata").getItem("year").equalTo("1790")).count(),
                "one representative for the 1790 speech and its two copies");
        Row washington = docs1.filter(col("metadata").getItem("year").equalTo("1791")).collectAsList().get(0);
        assertEquals("George Washington", washington.<String, String>getJavaMap(washington.fieldIndex("metadata")).get("name"));
        // documents/ is one table partitioned by run (documents/run=0001/*.parquet)
        assertEquals(List.of("id", "source", "text", "metadata", "hash", "cluster_id", "run"), List.of(docs1.columns()));

        // keep = all: every filtered document is written, duplicates point at their representative.
        PreprocessConfig all = PreprocessRuns.config("input.paths", in.toString(), "output.path", tmp.resolve("all").toString(),
                "minhash.threshold", "0.3", "dedup.keep", "all");
        PreprocessPipeline.run(spark, all, TestLineage.preprocess(spark));
        Dataset<Row> everything = spark.read().parquet(tmp.resolve("all/documents").toString());
        assertEquals(32, everything.count());
        assertEquals(2, everything.filter(col("cluster_id").notEqual(col("id"))).count());
        assertEquals(1, everything.filter(col("cluster_id").notEqual(col("id"))).select("cluster_id").distinct().count(),
                "both copies belong to the original's cluster");
    }
}
