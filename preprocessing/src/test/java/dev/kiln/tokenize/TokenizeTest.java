package dev.kiln.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.config.KilnConfig;
import dev.kiln.samples.SampleCorpora;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LocalSpark;
import dev.kiln.tokenizer.BpeTokenizer;
import dev.kiln.tokenizer.TokenizerJson;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
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
        var json = new ObjectMapper().readTree("{\"context-length\": 64}");

        // Run 1: trains the tokenizer and writes train + validation shards.
        Tokenize.Result r1 = Tokenize.run(spark, cfg, json);
        assertFalse(r1.upToDate());
        Path outDir = new Path(out.toUri());
        Manifest m1 = Manifest.read(fs, outDir);
        String tokenizerJson = Files.readString(out.resolve("tokenizer.json"));
        BpeTokenizer tok = TokenizerJson.read(tokenizerJson, "tokenizer.json");
        assertEquals(TokenizerJson.sha256(tokenizerJson), m1.tokenizerSha256());
        assertEquals(1024, m1.vocabSize());
        assertEquals(64, m1.contextLength());
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
        assertEquals(m3.shards().stream().map(ShardInfo::path).collect(java.util.stream.Collectors.toSet()), onDisk,
                "only the manifest's shards remain: the crashed attempt's leftovers were removed");

        // The same input into another folder gives byte-identical tokenizer and shards (deterministic training and packing).
        java.nio.file.Path out2 = tmp.resolve("tokenized-again");
        Tokenize.run(spark, config(in.resolve("batch-1"), out2), json);
        Manifest again = Manifest.read(fs, new Path(out2.toUri()));
        assertEquals(m1.tokenizerSha256(), again.tokenizerSha256());
        assertEquals(m1.shards().stream().map(ShardInfo::sha256).toList(), again.shards().stream().map(ShardInfo::sha256).toList());
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
            int complete = 0;
            for (ShardInfo s : mine) {
                List<Integer> stream = new ArrayList<>();
                long rows = 0;
                try (ShardReader r = ShardReader.open(fs, new Path(outDir, s.path()))) {
                    assertEquals(split, r.header().split());
                    assertEquals(m.tokenizerSha256(), r.header().tokenizerSha256());
                    for (int[] row : r) {
                        for (int j = rows == 0 ? 0 : 1; j < row.length; j++) {
                            stream.add(row[j]);
                        }
                        rows++;
                    }
                }
                assertEquals(s.rows(), rows);
                assertEquals(s.tokens(), stream.size());
                // Cut at end-of-text: every piece but the (possibly truncated) last is a whole document of this split.
                List<Integer> piece = new ArrayList<>();
                for (int id : stream) {
                    if (id == eot) {
                        String text = tok.decode(piece.stream().mapToInt(Integer::intValue).toArray());
                        assertTrue(texts.contains(text), "a shard piece is not a document of the " + split + " split");
                        complete++;
                        piece.clear();
                    } else {
                        piece.add(id);
                    }
                }
            }
            assertTrue(complete >= expected.size() - mine.size(), complete + " whole documents in " + split);
        }
    }
}
