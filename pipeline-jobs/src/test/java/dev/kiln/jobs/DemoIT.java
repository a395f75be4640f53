package dev.kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The newcomer's first command, {@code bin/kiln demo}, end to end on the real sample corpora and the embedded Spark:
 * every stage in this build runs through spark-submit, and each leaves the output the next one reads.
 */
class DemoIT {

    @Test
    void demoRunsEveryStageOfThisBuildEndToEnd(@TempDir Path dir) throws Exception {
        var r = KilnCliAccess.run(Map.of(), 3600, "demo", "--dir", dir.toString());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("== demo finished"), r.output());

        ObjectMapper json = new ObjectMapper();
        for (String corpus : List.of("sotu", "mail")) {
            Path out = dir.resolve("preprocessed").resolve(corpus);
            try (Stream<Path> files = Files.walk(out.resolve("documents/run=0001"))) {
                assertTrue(files.anyMatch(p -> p.toString().endsWith(".parquet")), "Parquet documents for " + corpus);
            }
            JsonNode stats = json.readTree(out.resolve("stats.json").toFile());
            JsonNode write = stats.path("stages").path("write");
            assertTrue(write.path("documents_out").asLong() > 100, corpus + " stats: " + write);
        }

        JsonNode manifest = json.readTree(dir.resolve("tokenized/manifest.json").toFile());
        assertEquals(128, manifest.path("contextLength").asInt());
        assertTrue(manifest.path("shards").size() >= 2, "train and validation shards: " + manifest.path("shards"));
        assertTrue(Files.isRegularFile(dir.resolve("tokenized/tokenizer.json")));

        // Pre-training learned: the last validation loss is far below the uniform ln(2048) = 7.62 nats of the start.
        double lastValidation = Double.NaN;
        for (String line : Files.readAllLines(dir.resolve("pretrain/metrics.jsonl"))) {
            JsonNode m = json.readTree(line);
            if ("validation".equals(m.path("kind").asText())) {
                lastValidation = m.path("loss").asDouble();
            }
        }
        assertTrue(lastValidation < 6.5, "validation loss after the demo's pre-training: " + lastValidation);
        try (Stream<Path> checkpoints = Files.list(dir.resolve("pretrain/checkpoints"))) {
            assertTrue(checkpoints.anyMatch(p -> p.getFileName().toString().equals("step-00001200")));
        }
        // Export: the pre-trained model (untied, no head bias) as a Hugging Face GPT-2 folder (transformers loads it; see README).
        JsonNode hf = json.readTree(dir.resolve("export/config.json").toFile());
        assertEquals("gpt2", hf.path("model_type").asText());
        assertEquals(1200, hf.path("kiln").path("step").asInt());
        assertFalse(hf.path("tie_word_embeddings").asBoolean(true), "the demo's head is untied: " + hf);
        assertTrue(Files.size(dir.resolve("export/model.safetensors")) > 0);
        // Generation: every prompt of conf/demo-prompts.txt gets its sequences, each with text and a stop reason.
        List<String> generated = Files.readAllLines(dir.resolve("generated.jsonl"));
        long prompts = Files.readAllLines(Path.of("..", "conf", "demo-prompts.txt")).stream().filter(l -> !l.isBlank()).count();
        assertTrue(prompts > 0 && generated.size() >= prompts, "generated sequences: " + generated.size());
        for (String line : generated) {
            JsonNode g = new ObjectMapper().readTree(line);
            assertTrue(g.path("tokens").asInt() > 0 && !g.path("stop_reason").asText().isEmpty(), line);
        }

        // The evaluation scored the newest checkpoint next to the three baselines and beat the uniform one.
        JsonNode report = json.readTree(dir.resolve("reports/demo/report.json").toFile());
        assertEquals(2, report.path("schema_version").asInt());
        // Per source: the demo groups the speeches by century (conf/demo.conf), every group named by two digits.
        JsonNode groups = report.path("per_source").path("sets").path(0).path("groups");
        assertTrue(groups.size() >= 2, groups.toString());
        long groupTokens = 0;
        for (JsonNode g : groups) {
            assertTrue(g.path("group").asText().matches("1[789]|20"), g.path("group").asText());
            groupTokens += g.path("tokens").asLong();
        }
        assertEquals(report.path("results").path(0).path("tokens").asLong(), groupTokens, "the groups add up to the total");
        JsonNode scorers = report.path("results").path(0).path("scorers");
        assertEquals(4, scorers.size(), scorers.toString());
        assertTrue(scorers.path(0).path("bits_per_byte").asDouble() < scorers.path(1).path("bits_per_byte").asDouble(), scorers.toString());
        // ... and the Kneser-Ney bigram of the same shards (measured: 3.823 vs 4.134 nats/token, README "Learning quality").
        assertTrue(scorers.path(0).path("beats_bigram").asBoolean(), scorers.toString());
        assertTrue(Files.isRegularFile(dir.resolve("reports/demo/report.md")));
        assertTrue(Files.readString(dir.resolve("reports/demo/report.html")).contains("echarts"), "report.html with its charts inlined");
        assertTrue(r.output().contains("report: " + dir.resolve("reports/demo/report.html")), "the demo names its report");
    }
}
