package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.dedup.MinHashConfig;
import dev.kiln.preprocess.dedup.Shingles;
import dev.kiln.testing.InjectedDuplicates;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two incremental runs over one input folder on local[2]: run 1 on half of a SOTU corpus with injected duplicates,
 * run 2 on the other half plus duplicates of run-1 documents. No near-duplicate pair may exist across both runs'
 * documents, run 1's files must be untouched, a third run with nothing new writes nothing, and changed or vanished
 * inputs are errors.
 */
class IncrementalPreprocessTest {
    private static final double THRESHOLD = 0.5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void secondRunDropsDuplicatesOfEarlierRunsAndKeepsThemPublished() throws Exception {
        SparkSession spark = LocalSpark.get();
        List<InjectedDuplicates.Doc> docs = InjectedDuplicates.generate(SampleCorpora.sotu(), 300, 80, 0.3, 5);
        Path in = Files.createDirectories(tmp.resolve("in"));
        Path out = tmp.resolve("out");
        PreprocessConfig cfg = PreprocessRuns.config("input.paths", in.toString(), "output.path", out.toString(),
                "minhash.threshold", Double.toString(THRESHOLD));

        // Run 1: originals 0-39 and their injected copies.
        for (InjectedDuplicates.Doc d : docs) {
            if (d.original() < 40) {
                write(in.resolve(d.id() + ".json"), d.text());
            }
        }
        Map<String, Object> s1 = PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark));
        assertEquals(1, s1.get("run"));
        Map<String, String> run1Files = checksums(out.resolve("documents/run=0001"));
        long run1Docs = spark.read().parquet(out.resolve("documents/run=0001").toString()).count();
        assertTrue(run1Docs >= 30, "run 1 kept " + run1Docs);
        // Run 1's manifest as a Kiln from before run manifests recorded the lineage wrote it (no such key): run 2 reads it.
        Path manifest1 = out.resolve("runs/run=0001/manifest.json");
        ObjectNode older = (ObjectNode) JSON.readTree(manifest1.toFile());
        assertTrue(older.has("lineage"), older.toString());
        older.remove("lineage");
        Files.write(manifest1, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(older));
        Files.deleteIfExists(manifest1.resolveSibling(".manifest.json.crc"));

        // Run 2: originals 40-79 with their copies, plus exact, re-cased and edited copies of run-1 originals.
        for (InjectedDuplicates.Doc d : docs) {
            if (d.original() >= 40) {
                write(in.resolve(d.id() + ".json"), d.text());
            }
        }
        Random rnd = new Random(3);
        List<String> vocabulary = List.of(docs.get(0).text().split("\\s+"));
        int injected = 0;
        for (InjectedDuplicates.Doc d : docs) {
            if (d.kind().equals("original") && d.original() < 40 && d.original() % 4 == 0) {
                String copy = switch (injected++ % 3) {
                    case 0 -> d.text();
                    case 1 -> d.text().toUpperCase().replace(" ", "  ");
                    default -> InjectedDuplicates.edit(d.text(), 0.03, vocabulary, rnd);
                };
                write(in.resolve("again-" + d.id() + ".json"), copy);
            }
        }
        Map<String, Object> s2 = PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark));
        assertEquals(2, s2.get("run"));
        JsonNode stats2 = JSON.readTree(out.resolve("runs/run=0002/stats.json").toFile());
        System.out.println(stats2.at("/stages").toPrettyString());
        assertEquals(docs.stream().filter(d -> d.original() >= 40).count() + injected, stats2.at("/input/files").asLong());
        assertEquals(docs.stream().filter(d -> d.original() < 40).count(), stats2.at("/input/already_processed_files").asLong());
        long exactEarlier = stats2.at("/stages/exact_dedup/removed/exact_duplicate_of_earlier_run/documents").asLong();
        long nearEarlier = stats2.at("/stages/near_dedup/removed/near_duplicate_of_earlier_run/documents").asLong();
        assertTrue(exactEarlier >= injected / 3, "exact and re-cased copies of run-1 documents: " + exactEarlier);
        assertTrue(nearEarlier >= injected / 3 - 1, "edited copies of run-1 documents: " + nearEarlier);
        assertEquals(stats2, JSON.readTree(out.resolve("stats.json").toFile()), "the top-level stats.json is the latest run's");
        assertEquals(1, JSON.readTree(out.resolve("runs/run=0001/stats.json").toFile()).at("/run").asInt(), "run 1 keeps its own");
        assertEquals(run1Files, checksums(out.resolve("documents/run=0001")), "run 1's documents are never rewritten");

        // Across both runs: one table partitioned by run, unique ids and hashes, and no near-duplicate pair.
        Dataset<Row> all = spark.read().parquet(out.resolve("documents").toString());
        assertEquals(List.of(1, 2), all.select("run").distinct().orderBy("run").as(Encoders.INT()).collectAsList());
        long n = all.count();
        assertEquals(run1Docs + stats2.at("/stages/write/documents_out").asLong(), n);
        assertEquals(n, all.select("id").distinct().count());
        assertEquals(n, all.select("hash").distinct().count(), "no exact duplicate across runs");
        assertNoNearDuplicatePair(all);
        try (Stream<Path> index = Files.list(out.resolve("index"))) {
            assertEquals(List.of("run=0002"), index.map(p -> p.getFileName().toString()).toList(), "only the newest index snapshot");
        }
        assertEquals(n, spark.read().parquet(out.resolve("index/run=0002").toString()).count(), "the index holds every kept document");

        // Run 3: nothing new; nothing is written and the job returns normally.
        Map<String, String> before = checksums(out);
        Map<String, Object> s3 = PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark));
        assertEquals(true, s3.get("up_to_date"));
        assertEquals(before, checksums(out), "nothing written");

        // New input with signatures made differently (another seed) cannot extend the index: an error naming the key.
        Path extra = in.resolve("extra.json");
        write(extra, docs.get(1).text() + " An extra closing sentence for a new file.");
        PreprocessConfig otherSeed = PreprocessRuns.config("input.paths", in.toString(), "output.path", out.toString(),
                "minhash.threshold", Double.toString(THRESHOLD), "minhash.seed", "2");
        IllegalStateException seed = assertThrows(IllegalStateException.class, () -> PreprocessPipeline.run(spark, otherSeed, TestLineage.preprocess(spark)));
        assertTrue(seed.getMessage().contains("kiln.preprocess.minhash.seed 1 -> 2"), seed.getMessage());
        Files.delete(extra);

        // A processed file that was only touched is fine; one that changed, or vanished, is an error naming it.
        Path first = in.resolve(docs.get(0).id() + ".json");
        Files.setLastModifiedTime(first, FileTime.fromMillis(Files.getLastModifiedTime(first).toMillis() + 5000));
        assertEquals(true, PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark)).get("up_to_date"));
        String original = Files.readString(first);
        Files.writeString(first, original.replace("\"}", " More words.\"}"));
        IllegalStateException changed = assertThrows(IllegalStateException.class, () -> PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark)));
        assertTrue(changed.getMessage().contains(first.getFileName().toString()) && changed.getMessage().contains("--reprocess"),
                changed.getMessage());
        Files.delete(first);
        IllegalStateException vanished = assertThrows(IllegalStateException.class, () -> PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark)));
        assertTrue(vanished.getMessage().contains(first.getFileName().toString()) && vanished.getMessage().contains("kiln.preprocess.reprocess"),
                vanished.getMessage());
        assertEquals(before, checksums(out), "failed runs write nothing");

        // reprocess = true starts the output over: one run over everything listed now.
        PreprocessConfig again = PreprocessRuns.config("input.paths", in.toString(), "output.path", out.toString(),
                "minhash.threshold", Double.toString(THRESHOLD), "reprocess", "true");
        assertEquals(1, PreprocessPipeline.run(spark, again, TestLineage.preprocess(spark)).get("run"));
        try (Stream<Path> runs = Files.list(out.resolve("runs"))) {
            assertEquals(List.of("run=0001"), runs.map(p -> p.getFileName().toString()).toList());
        }
        assertNoNearDuplicatePair(spark.read().parquet(out.resolve("documents").toString()));
    }

    /** Exact Jaccard of word 5-gram sets over all pairs (a few thousand): none may reach the threshold. */
    private static void assertNoNearDuplicatePair(Dataset<Row> docs) {
        List<Row> rows = docs.select("id", "text").collectAsList();
        List<long[]> shingles = new ArrayList<>();
        for (Row r : rows) {
            shingles.add(Shingles.of(r.getString(1), MinHashConfig.Shingling.WORD, 5));
        }
        for (int i = 0; i < rows.size(); i++) {
            for (int j = i + 1; j < rows.size(); j++) {
                double sim = Shingles.jaccard(shingles.get(i), shingles.get(j));
                assertTrue(sim < THRESHOLD, rows.get(i).getString(0) + " and " + rows.get(j).getString(0) + " have Jaccard " + sim);
            }
        }
    }

    private static void write(Path file, String text) throws Exception {
        Files.writeString(file, JSON.writeValueAsString(Map.of("text", text)));
    }

    /** Relative path -> SHA-256 of every file below {@code dir}. */
    static Map<String, String> checksums(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return out;
    }
}
