package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * report.json as records: the one reader reads a report written by the previous (hand-built) writer, the one writer
 * gives back every key and value of it, and on the same inputs writes what the previous writer wrote.
 */
class ReportJsonTest {
    /** A report.json written by `kiln evaluate` before report.json became records (ReportPartsSparkTest's run). */
    static final String SCHEMA_2 = "report-schema-2.json";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    java.nio.file.Path tmp;

    @Test
    void aReportOfThePreviousVersionIsReadAndWrittenBackWithEveryKeyAndValue() throws IOException {
        String before = resource(SCHEMA_2);
        EvaluationReport r = Report.read(before, SCHEMA_2);
        JsonNode tree = JSON.readTree(before);
        assertEquals(2, r.schemaVersion());
        assertEquals(tree.path("run_name").asText(), r.runName());
        for (int i = 0; i < tree.path("results").path(0).path("scorers").size(); i++) {
            JsonNode written = tree.path("results").path(0).path("scorers").path(i);
            EvaluationReport.ScorerScores read = r.results().get(0).scorers().get(i);
            assertEquals(written.path("name").asText(), read.name());
            for (LmMetric m : LmMetric.values()) {
                assertEquals(written.path(m.key()).asDouble(), read.value(m), 0.0, m.key());
            }
            assertEquals(written.has("beats_bigram") ? written.path("beats_bigram").asBoolean() : null, read.beatsBigram());
        }
        assertEquals(tree.path("per_source").path("sets").path(0).path("groups").path(0).path("scorers").path(0).path("bits_per_byte").asDouble(),
                r.perSource().sets().get(0).groups().get(0).scorers().get(0).value(LmMetric.BITS_PER_BYTE), 0.0);
        assertEquals(tree, JSON.readTree(Report.toJson(r)), "written again: the same keys and values");
        String md = Report.markdown(r);
        assertTrue(md.contains("| bits per byte |") && md.contains("## Classifier (test split of") && md.contains("## Generation"), md);
        assertTrue(HtmlReport.render(r).contains("<section id=\"generation\">"));
    }

    @Test
    void theWriterWritesWhatThePreviousWriterWroteOnTheSameInputs() throws IOException {
        ReportFixtures.Setting s = ReportFixtures.setting(tmp, "x");
        ObjectNode before = ReportFixtures.reportBefore(s, "x");
        JsonNode written = JSON.readTree(Report.toJson(ReportFixtures.reportOf(s, "x")));
        assertEquals(JSON.readTree(JSON.writeValueAsString(before)), written);
    }

    @Test
    void theFolderIsReadBackFromItsFileAndAMissingMetricReadsAsNaNNotZero() throws IOException {
        EvaluationReport r = ReportFixtures.report(tmp, "x");
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path folder = new Path(tmp.resolve("reports").resolve("fixture").toUri());
        Report.write(fs, folder, r);
        assertEquals(JSON.readTree(Report.toJson(r)), JSON.readTree(Report.toJson(Report.read(fs, folder))));
        assertEquals(List.of("report.html", "report.json", "report.md"),
                Files.list(tmp.resolve("reports").resolve("fixture")).map(p -> p.getFileName().toString()).sorted().toList());

        // A per-source scorer carries only its place's metrics: the others read as NaN, never as a silent 0.
        EvaluationReport.ScorerScores group = r.perSource().sets().get(0).groups().get(0).scorers().get(0);
        assertTrue(Double.isNaN(group.value(LmMetric.WORD_PERPLEXITY)));
        assertTrue(group.value(LmMetric.BITS_PER_BYTE) > 0);
        assertNull(group.beatsBigram());
        assertThrows(IllegalArgumentException.class, () -> Report.read("{\"results\": 3}", "bad.json"));
    }

    static String resource(String name) throws IOException {
        try (InputStream in = ReportJsonTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
