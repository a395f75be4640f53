package dev.kiln.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LineageAssertions;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tokenize stage on the real SOTU speeches, written as the Parquet `kiln preprocess` produces, on local[2]. */
class TokenizeTest {
    @TempDir
    java.nio.file.Path tmp;

    record Doc(String id, String text, String hash) {
    }

    static List<Doc> sotuDocs() throws IOException {
        List<Doc> docs = new ArrayList<>();
        try (Stream<java.nio.file.Path> files = Files.list(SampleCorpora.sotu())) {
            for (java.nio.file.Path p : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                String text = Files.readString(p, StandardCharsets.UTF_8);
                docs.add(new Doc(p.getFileName().toString(), text, sha256(text)));
            }
        }
        return docs;
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes documents with preprocess's schema: id, source, text, metadata, hash, cluster_id. */
    static void writeParquet(SparkSession spark, List<Doc> docs, java.nio.file.Path dir) {
        StructType schema = new StructType()
                .add("id", DataTypes.StringType, false)
                .add("source", DataTypes.StringType, false)
                .add("text", DataTypes.StringType, false)
                .add("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType), false)
                .add("hash", DataTypes.StringType, false)
                .add("cluster_id", DataTypes.StringType, false);
        List<Row> rows = new ArrayList<>();
        for (Doc d : docs) {
            rows.add(RowFactory.create(d.id(), "sotu/" + d.id(), d.text(), scala.collection.immutable.Map$.MODULE$.empty(), d.hash(), d.id()));
        }
        spark.createDataFrame(rows, schema).coalesce(2).write().parquet(dir.toUri().toString());
    }

    TokenizeConfig config(java.nio.file.Path input, java.nio.file.Path output) {
        Map<String, String> o = new HashMap<>();
        o.put("kiln.tokenize.input", input.toUri().toString());
        o.put("kiln.tokenize.output", output.toUri().toString());
        o.put("kiln.tokenize.context-length", "64");
        o.put("kiln.tokenize.validation-fraction", "0.1");
        o.put("kiln.tokenize.shards", "3");
        o.put("kiln.tokenize.tokenizer.vocab-size", "1024");
        return TokenizeConfig.from(KilnConfig.load(null, o));
    }

    @Test
    void tokenizesSotuIntoShardsThatHoldExactlyTheEncodedDocumentsAndRunsIncrementally() throws Exception {
        SparkSession spark = LocalSpark.get();
        FileSystem fs = FileSystem.getLocal(new Configuration());
        List<Doc> all = sotuDocs();
        List<Doc> first = all.subList(0, 140);
        List<Doc> second = all.subList(140, all.size());
        java.nio.file.Path in = tmp.resolve("documents");
        writeParquet(spark, first, in.resolve("batch-1"));
        java.nio.file.Path out = tmp.resolve("tokenized");
        TokenizeConfig cfg = config(in, out);
        var json = Lineage.of("tokenize", TokenizeConfig.SECTION, new ObjectMapper().readTree("{\"context-length\": 64}"),
                spark.version());

        // Run 1: trains the tokenizer and writes train + validation shards.
        Tokenize.Result r1 = Tokenize.run(spark, cfg, json);
        assertFalse(r1.upToDate());
        Path outDir = new Path(out.toUri());
        Manifest m1 = Manifest.read(fs, outDir);
        String tokenizerJson = Files.readString(out.resolve("tokenizer.json"));
        BpeTokenizer tok = TokenizerJson.read(tokenizerJson, "tokenizer.json");
        assertEquals(FileHashes.sha256(tokenizerJson), m1.tokenizerSha256());
        assertEquals(1024, m1.vocabSize());
        assertEquals(64, m1.contextLength());
        LineageAssertions.assertLineage(m1.lineage(), "tokenize", TokenizeConfig.SECTION);
        assertEquals(m1.config(), m1.lineage().path("config"), "the manifest's config is the lineage's");
        assertEquals(Map.of("<|endoftext|>", 0, "<|pad|>", 1), m1.specialTokens());
        assertEquals(3, m1.shards(ShardSchema.TRAIN).size());
        assertEquals(1, m1.shards(ShardSchema.VALIDATION).size());
        assertEquals(140, m1.shards().stream().mapToLong(ShardInfo::documents).sum());
        m1.verify(fs, outDir);
        checkShardsHoldTheDocuments(fs, outDir, m1, m1.shards(), tok, first, cfg.validationFraction());

        // Run 2: nothing new, nothing written.
        Tokenize.Result r2 = Tokenize.run(spark, cfg, json);
        assertTrue(r2.upToDate());
        assertEquals(m1, Manifest.read(fs, outDir));

        // A crashed attempt of the next run left a committed shard and a staging file; the rerun cleans them up.
        Files.writeString(out.resolve("shards/train/run-0002-part-00077.arrow"), "partial");
        Files.writeString(out.resolve("shards/train/_tmp-run-0002-part-00001.arrow-123"), "partial");

        // Run 3: a new input file; only it is tokenized, with the same tokenizer, and shards are appended.
        writeParquet(spark, second, in.resolve("batch-2"));
        Tokenize.Result r3 = Tokenize.run(spark, cfg, json);
        assertFalse(r3.upToDate());
        assertEquals(2, r3.run());
        Manifest m3 = Manifest.read(fs, outDir);
        assertEquals(tokenizerJson, Files.readString(out.resolve("tokenizer.json")));
        assertEquals(m1.shards(), m3.shards().subList(0, m1.shards().size()), "earlier shards untouched");
        assertEquals(m1.inputs(), m3.inputs().subList(0, m1.inputs().size()));
        List<ShardInfo> added = m3.shards().subList(m1.shards().size(), m3.shards().size());
        assertTrue(added.stream().allMatch(s -> s.path().contains("/run-0002-part-")), added.toString());
        assertEquals(second.size(), added.stream().mapToLong(ShardInfo::documents).sum());
        m3.verify(fs, outDir);
        checkShardsHoldTheDocuments(fs, outDir, m3, added, tok, second, cfg.validationFraction());
        Set<String> onDisk = new HashSet<>();
        for (String split : List.of("train", "validation")) {
            try (Stream<java.nio.file.Path> files = Files.list(out.resolve("shards").resolve(split))) {
                files.map(p -> "shards/" + split + "/" + p.getFileName()).filter(n -> !n.contains("/.")).forEach(onDisk::add);
            }
        }
        assertEquals(m3.shards().stream().map(ShardInfo::path).collect(Collectors.toSet()), onDisk,
                "only the manifest's shards remain: the crashed attempt's leftovers were removed");

        // The same input into another folder gives byte-identical tokenizer and shards (deterministic training and packing).
        java.nio.file.Path out2 = tmp.resolve("tokenized-again");
        Tokenize.run(spark, config(in.resolve("batch-1"), out2), json);
        Manifest again = Manifest.read(fs, new Path(out2.toUri()));
        assertEquals(m1.tokenizerSha256(), again.tokenizerSha256());
        assertEquals(m1.shards().stream().map(ShardInfo::sha256).toList(), again.shards().stream().map(ShardInfo::sha256).toList());
    }

    /** Parquet without preprocess's `source` column: a document's source is the Parquet file it was read from. */
    @Test
    void withoutASourceColumnADocumentsSourceIsItsParquetFile() throws Exception {
        SparkSession spark = LocalSpark.get();
        FileSystem fs = FileSystem.getLocal(new Configuration());
        List<Doc> docs = sotuDocs().subList(0, 30);
        java.nio.file.Path in = tmp.resolve("plain");
        StructType schema = new StructType().add("hash", DataTypes.StringType, false).add("text", DataTypes.StringType, false);
        List<Row> rows = new ArrayList<>();
        docs.forEach(d -> rows.add(RowFactory.create(d.hash(), d.text())));
        spark.createDataFrame(rows, schema).coalesce(2).write().parquet(in.toUri().toString());
        Set<String> files = new HashSet<>();
        try (Stream<java.nio.file.Path> list = Files.list(in)) {
            list.filter(p -> p.getFileName().toString().endsWith(".parquet")).forEach(p -> files.add(p.getFileName().toString()));
        }
        assertEquals(2, files.size());
        java.nio.file.Path out = tmp.resolve("plain-tokenized");
        Tokenize.run(spark, config(in, out), TestLineage.tokenize(spark));
        Path outDir = new Path(out.toUri());
        Manifest m = Manifest.read(fs, outDir);
        assertEquals(2, m.formatVersion());
        Set<String> seen = new HashSet<>();
        long listed = 0;
        for (ShardInfo s : m.shards()) {
            try (ShardReader r = ShardReader.open(fs, new Path(outDir, s.path()))) {
                for (int b = 0; b < r.blockCount(); b++) {
                    for (int i = 0, n = r.loadBlock(b); i < n; i++) {
                        for (String src : r.sources(i)) {
                            seen.add(new Path(src).getName());
                            assertTrue(src.startsWith("file:"), src);
                            listed++;
                        }
                    }
                }
            }
        }
        assertEquals(files, seen, "every source is one of the two Parquet files, and both occur");
        assertTrue(listed >= docs.size() - m.shards().size(), listed + " sources for " + docs.size() + " documents");
    }

    /**
     * The double-counting bug: preprocess, tokenize, preprocess again over the same input (nothing new), tokenize again:
     * the token count is unchanged. New input files become preprocess run 2, and only its documents are appended. A
     * reprocessed (rewritten) run 1 is an error naming it.
     */
    @Test
    void followsPreprocessRunsSoTheSameDocumentsAreNeverTokenizedTwice() throws Exception {
        SparkSession spark = LocalSpark.get();
        FileSystem fs = FileSystem.getLocal(new Configuration());
        java.nio.file.Path raw = Files.createDirectories(tmp.resolve("raw"));
        List<java.nio.file.Path> speeches;
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.sotu())) {
            speeches = s.filter(p -> p.toString().endsWith(".json")).sorted().limit(30).toList();
        }
        for (java.nio.file.Path p : speeches.subList(0, 20)) {
            Files.copy(p, raw.resolve(p.getFileName()));
        }
        java.nio.file.Path pre = tmp.resolve("preprocessed");
        java.nio.file.Path out = tmp.resolve("tokenized");
        PreprocessConfig pcfg = PreprocessRuns.config(
                "input.paths", raw.toString(), "output.path", pre.toString());
        TokenizeConfig cfg = config(pre, out);
        var json = Lineage.of("tokenize", TokenizeConfig.SECTION, new ObjectMapper().readTree("{}"), spark.version());
        Path outDir = new Path(out.toUri());

        PreprocessPipeline.run(spark, pcfg, TestLineage.preprocess(spark));
        long run1Docs = spark.read().parquet(pre.resolve("documents/run=0001").toString()).count();
        Tokenize.Result t1 = Tokenize.run(spark, cfg, json);
        Manifest m1 = Manifest.read(fs, outDir);
        long tokens1 = m1.tokens(ShardSchema.TRAIN) + m1.tokens(ShardSchema.VALIDATION);
        assertEquals(run1Docs, t1.documents());
        assertEquals(List.of(1), m1.preprocessRuns().stream().map(Manifest.PreprocessRun::run).toList());

        // The same input again: preprocess writes nothing, tokenize finds nothing new; the token count is unchanged.
        assertEquals(true, PreprocessPipeline.run(spark, pcfg, TestLineage.preprocess(spark)).get("up_to_date"));
        assertTrue(Tokenize.run(spark, cfg, json).upToDate());
        Manifest m2 = Manifest.read(fs, outDir);
        assertEquals(m1, m2);
        assertEquals(tokens1, m2.tokens(ShardSchema.TRAIN) + m2.tokens(ShardSchema.VALIDATION));
        System.out.println("tokens after preprocess run 1: " + tokens1 + "; after an empty rerun: "
                + (m2.tokens(ShardSchema.TRAIN) + m2.tokens(ShardSchema.VALIDATION)));

        // New input files: preprocess run 2, and tokenize appends only its documents.
        for (java.nio.file.Path p : speeches.subList(20, 30)) {
            Files.copy(p, raw.resolve(p.getFileName()));
        }
        assertEquals(2, PreprocessPipeline.run(spark, pcfg, TestLineage.preprocess(spark)).get("run"));
        long run2Docs = spark.read().parquet(pre.resolve("documents/run=0002").toString()).count();
        Tokenize.Result t3 = Tokenize.run(spark, cfg, json);
        Manifest m3 = Manifest.read(fs, outDir);
        assertEquals(run2Docs, t3.documents(), "only run 2's documents are tokenized");
        assertEquals(run1Docs + run2Docs, m3.shards().stream().mapToLong(ShardInfo::documents).sum());
        assertEquals(m1.shards(), m3.shards().subList(0, m1.shards().size()), "earlier shards untouched");
        assertEquals(List.of(1, 2), m3.preprocessRuns().stream().map(Manifest.PreprocessRun::run).toList());
        assertTrue(m3.inputs().stream().allMatch(f -> f.path().contains("/documents/run=000")), m3.inputs().toString());
        System.out.println("tokens after preprocess run 2: " + (m3.tokens(ShardSchema.TRAIN) + m3.tokens(ShardSchema.VALIDATION))
                + " (" + run1Docs + " + " + run2Docs + " documents)");

        // Reprocessing rewrites run 1: tokenizing into the same output is an error naming it, and writes nothing.
        PreprocessPipeline.run(spark, PreprocessRuns.config(
                "input.paths", raw.toString(), "output.path", pre.toString(), "reprocess", "true"), TestLineage.preprocess(spark));
        IllegalStateException e = Assertions.assertThrows(IllegalStateException.class,
                () -> Tokenize.run(spark, cfg, json));
        assertTrue(e.getMessage().contains("run=0001") && e.getMessage().contains("rewritten"), e.getMessage());
        assertEquals(m3, Manifest.read(fs, outDir));
    }

    /**
     * Per split, the tokens in the shards (covered + dropped tail) equal the encoder's count of the documents plus one
     * end-of-text each; and the decoded shard streams, cut at end-of-text, are exactly documents of that split.
     */
    static void checkShardsHoldTheDocuments(FileSystem fs, Path outDir, Manifest m, List<ShardInfo> shards, BpeTokenizer tok,
                                            List<Doc> docs, double fraction) throws IOException {
        int eot = tok.specialTokenId("<|endoftext|>");
        for (String split : List.of(ShardSchema.TRAIN, ShardSchema.VALIDATION)) {
            List<Doc> expected = docs.stream().filter(d -> DocumentSplit.splitOf(d.hash(), fraction).equals(split)).toList();
            long expectedTokens = expected.stream().mapToLong(d -> tok.encode(d.text()).length + 1).sum();
            List<ShardInfo> mine = shards.stream().filter(s -> s.split().equals(split)).toList();
            assertEquals(expectedTokens, mine.stream().mapToLong(s -> s.tokens() + s.droppedTokens()).sum(), split + " token count");
            assertEquals(expected.size(), mine.stream().mapToLong(ShardInfo::documents).sum());
            Set<String> texts = new HashSet<>();
            expected.forEach(d -> texts.add(d.text()));
            Map<String, String> sourceOf = new HashMap<>();
            expected.forEach(d -> sourceOf.put(d.text(), "sotu/" + d.id()));
            int complete = 0;
            for (ShardInfo s : mine) {
                List<Integer> stream = new ArrayList<>();
                List<String> sources = new ArrayList<>(); // every row's sources, in row order: the documents' order
                long rows = 0;
                try (ShardReader r = ShardReader.open(fs, new Path(outDir, s.path()))) {
                    assertEquals(split, r.header().split());
                    assertEquals(m.tokenizerSha256(), r.header().tokenizerSha256());
                    assertEquals(ShardSchema.FORMAT_VERSION, r.formatVersion());
                    for (int b = 0; b < r.blockCount(); b++) {
                        int n = r.loadBlock(b);
                        for (int i = 0; i < n; i++) {
                            int[] row = new int[r.rowLength()];
                            r.copyRow(i, row, 0);
                            for (int j = rows == 0 ? 0 : 1; j < row.length; j++) {
                                stream.add(row[j]);
                            }
                            sources.addAll(r.sources(i));
                            rows++;
                        }
                    }
                }
                int pieces = 0;
                assertEquals(s.rows(), rows);
                assertEquals(s.tokens(), stream.size());
                // Cut at end-of-text: every piece but the (possibly truncated) last is a whole document of this split.
                List<Integer> piece = new ArrayList<>();
                for (int id : stream) {
                    if (id == eot) {
                        String text = tok.decode(piece.stream().mapToInt(Integer::intValue).toArray());
                        assertTrue(texts.contains(text), "a shard piece is not a document of the " + split + " split");
                        assertTrue(pieces < sources.size(), "document " + pieces + " of " + s.path() + " has no source");
                        assertEquals(sourceOf.get(text), sources.get(pieces), "source of document " + pieces + " of " + s.path());
                        complete++;
                        pieces++;
                        piece.clear();
                    } else {
                        piece.add(id);
                    }
                }
                // The document cut short by the dropped tail is listed when its start lies in a row, else not.
                assertTrue(sources.size() == pieces || sources.size() == pieces + 1, sources.size() + " sources, " + pieces + " documents");
            }
            assertTrue(complete >= expected.size() - mine.size(), complete + " whole documents in " + split);
        }
    }
}
