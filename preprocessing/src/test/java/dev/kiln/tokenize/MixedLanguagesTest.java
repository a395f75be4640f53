package dev.kiln.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.ChineseDuplicates;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A mixed English + Chinese corpus through kiln preprocess and kiln tokenize on local[2] with the default settings:
 * 20 SOTU speeches (text files) and 40 documents of Tang poems (JSON Lines) in one run. Each kept document carries its
 * language; stats.json and the run manifest count them; the tokenizer trained on both round-trips the Chinese text.
 */
class MixedLanguagesTest {
    @TempDir
    Path tmp;

    @Test
    void englishAndChineseArePreprocessedByLanguageAndTokenized() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        try (Stream<Path> s = Files.list(SampleCorpora.sotu())) {
            for (Path p : s.filter(x -> x.toString().endsWith(".txt")).sorted().limit(20).toList()) {
                Files.copy(p, in.resolve(p.getFileName()));
            }
        }
        List<String> poems = ChineseDuplicates.poems(SampleCorpora.chinesePoetry().resolve("quantangshi"), "poet.tang.", 2000);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (int d = 0; d < 40; d++) {
            lines.add(json.writeValueAsString(Map.of("text", String.join("\n", poems.subList(d * 20, d * 20 + 20)))));
        }
        Files.write(in.resolve("tang.jsonl"), lines);

        SparkSession spark = LocalSpark.get();
        Path pre = tmp.resolve("preprocessed");
        PreprocessConfig pcfg = PreprocessRuns.config("input.paths", "[\"" + in + "\"]", "output.path", pre.toString());
        Map<String, Object> stats = PreprocessPipeline.run(spark, pcfg, TestLineage.preprocess(spark));

        Map<String, Long> written = new HashMap<>();
        String chinese = null;
        for (Row r : spark.read().parquet(pre.resolve("documents").toString()).selectExpr("metadata['language']", "text").collectAsList()) {
            written.merge(r.getString(0), 1L, Long::sum);
            if ("zh".equals(r.getString(0)) && chinese == null) {
                chinese = r.getString(1);
            }
        }
        assertEquals(Map.of("en", 20L, "zh", 40L), written, "every speech and every poem document kept, with its language");
        JsonNode statsJson = json.readTree(pre.resolve("stats.json").toFile());
        assertEquals(40, statsJson.path("languages").path("zh").path("documents").asLong(), statsJson.path("languages").toString());
        assertEquals("zh", statsJson.path("languages").path("zh").path("settings").asText());
        assertEquals("default", statsJson.path("languages").path("en").path("settings").asText());
        JsonNode manifest = json.readTree(pre.resolve("runs/run=0001/manifest.json").toFile());
        assertEquals(20, manifest.path("languages").path("en").asLong());
        assertEquals(40, manifest.path("languages").path("zh").asLong());
        assertTrue(stats.containsKey("languages"));

        Map<String, String> o = new HashMap<>();
        o.put("kiln.tokenize.input", pre.toUri().toString());
        o.put("kiln.tokenize.output", tmp.resolve("tokenized").toUri().toString());
        o.put("kiln.tokenize.context-length", "64");
        o.put("kiln.tokenize.tokenizer.vocab-size", "2048");
        Tokenize.Result t = Tokenize.run(spark, TokenizeConfig.from(KilnConfig.load(null, o)), TestLineage.tokenize(spark));
        assertEquals(60, t.documents());
        assertTrue(t.tokens(ShardSchema.TRAIN) > 0);
        BpeTokenizer tok = TokenizerJson.read(Files.readString(tmp.resolve("tokenized/tokenizer.json")), "tokenizer.json");
        int[] ids = tok.encode(chinese);
        assertEquals(chinese, tok.decode(ids), "Chinese round-trips through the byte-level BPE");
        assertArrayEquals(ids, tok.encode(tok.decode(ids)));
        double bytesPerToken = (double) chinese.getBytes(StandardCharsets.UTF_8).length / ids.length;
        System.out.printf("mixed corpus: %s; Chinese at %.2f UTF-8 bytes a token (vocab 2048)%n", written, bytesPerToken);
        assertTrue(bytesPerToken > 1.0, "merges learned over Chinese bytes: " + bytesPerToken);

        // source = language: the shards name each row's languages, which evaluate's per-source results group by.
        o.put("kiln.tokenize.output", tmp.resolve("by-language").toUri().toString());
        o.put("kiln.tokenize.source", "language");
        Tokenize.Result byLanguage = Tokenize.run(spark, TokenizeConfig.from(KilnConfig.load(null, o)), TestLineage.tokenize(spark));
        Set<String> sources = new TreeSet<>();
        FileSystem fs = FileSystem.getLocal(new Configuration());
        for (ShardInfo shard : byLanguage.newShards()) {
            try (ShardReader r = ShardReader.open(fs,
                    new org.apache.hadoop.fs.Path(tmp.resolve("by-language").toUri().toString(), shard.path()))) {
                for (int b = 0; b < r.blockCount(); b++) {
                    int rows = r.loadBlock(b);
                    for (int row = 0; row < rows; row++) {
                        sources.addAll(r.sources(row));
                    }
                }
            }
        }
        assertEquals(Set.of("language=en", "language=zh"), sources);
    }
}
