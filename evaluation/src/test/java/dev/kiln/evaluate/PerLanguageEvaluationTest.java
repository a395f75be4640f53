package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.testing.ChineseDuplicates;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import dev.kiln.tokenize.Tokenize;
import dev.kiln.tokenize.TokenizeConfig;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bits per byte per language, end to end through the real stages on local[2]: a mixed corpus of SOTU speeches and
 * Tang poems is preprocessed (language identification on, the default), tokenized with {@code source = language}
 * (each document's source in the shards is {@code language=<code>}), a tiny model is pre-trained on it, and evaluate's
 * per-source results ({@code group-by = file}: one group per distinct source) are per language and add up to the totals.
 */
class PerLanguageEvaluationTest {
    @TempDir
    static java.nio.file.Path tmp;

    @Test
    void evaluateReportsBitsPerBytePerLanguage() throws Exception {
        java.nio.file.Path in = Files.createDirectories(tmp.resolve("in"));
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.sotu())) {
            for (java.nio.file.Path p : s.filter(x -> x.toString().endsWith(".txt")).sorted().limit(12).toList()) {
                Files.copy(p, in.resolve(p.getFileName()));
            }
        }
        List<String> poems = ChineseDuplicates.poems(SampleCorpora.chinesePoetry().resolve("quantangshi"), "poet.tang.", 600);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (int d = 0; d < 30; d++) {
            lines.add(json.writeValueAsString(Map.of("text", String.join("\n", poems.subList(d * 20, d * 20 + 20)))));
        }
        Files.write(in.resolve("tang.jsonl"), lines);

        SparkSession spark = LocalSpark.get();
        java.nio.file.Path pre = tmp.resolve("preprocessed");
        PreprocessConfig pcfg = PreprocessRuns.config("input.paths", "[\"" + in + "\"]", "output.path", pre.toString());
        PreprocessPipeline.run(spark, pcfg, TestLineage.preprocess(spark));
        Map<String, String> t = new HashMap<>();
        t.put("kiln.tokenize.input", pre.toUri().toString());
        t.put("kiln.tokenize.output", tmp.resolve("tokenized").toUri().toString());
        t.put("kiln.tokenize.context-length", Integer.toString(EvalFixtures.CONTEXT));
        t.put("kiln.tokenize.tokenizer.vocab-size", Integer.toString(EvalFixtures.VOCAB));
        t.put("kiln.tokenize.source", "language");
        Tokenize.run(spark, TokenizeConfig.from(KilnConfig.load(null, t)), TestLineage.tokenize(spark));
        Path shards = new Path(tmp.resolve("tokenized").toUri());
        Path pretrain = EvalFixtures.pretrain(shards, tmp.resolve("pretrain"), 20, 20);

        // The train split holds nearly every document of both languages (validation-fraction 0.01 by default).
        Map<String, String> o = Map.of("checkpoints", "[\"" + pretrain + "\"]", "shards", "[\"" + shards + "\"]",
                "split", "train", "output", tmp.resolve("reports").toString(), "run-name", "by-language",
                "per-source.group-by", "file");
        Evaluate.Outcome outcome = Evaluate.run(spark, EvalFixtures.config(o), EvalFixtures.lineage(o));

        Map<String, List<LmStats>> groups = outcome.result().perSource().get(0).groups();
        assertEquals(List.of("language=en", "language=zh"), groups.keySet().stream().sorted().toList(), groups.keySet().toString());
        LmStats en = groups.get("language=en").get(0);
        LmStats zh = groups.get("language=zh").get(0);
        LmStats total = outcome.result().perShardSet().get(0).get(0);
        assertEquals(total.documents(), en.documents() + zh.documents(), "the languages' documents add up to the total");
        assertEquals(total.tokens(), en.tokens() + zh.tokens());
        assertEquals(total.bytes(), en.bytes() + zh.bytes());
        assertTrue(en.documents() >= 10 && zh.documents() >= 25, en + " / " + zh);
        assertTrue(en.bitsPerByte() > 0 && zh.bitsPerByte() > 0 && Double.isFinite(en.bitsPerByte()) && Double.isFinite(zh.bitsPerByte()));
        assertNotEquals(en.bitsPerByte(), zh.bitsPerByte(), 1e-6, "two languages, two figures");
        System.out.printf("bits per byte after 20 steps: English %.3f (%d documents), Chinese %.3f (%d documents)%n",
                en.bitsPerByte(), en.documents(), zh.bitsPerByte(), zh.documents());

        JsonNode report = json.readTree(tmp.resolve("reports/by-language/report.json").toFile());
        JsonNode groupsJson = report.path("per_source").path("sets").path(0).path("groups");
        List<String> names = new ArrayList<>();
        for (JsonNode g : groupsJson) {
            names.add(g.path("group").asText());
        }
        assertEquals(List.of("language=en", "language=zh"), names.stream().sorted().toList(), groupsJson.toString());
    }
}
