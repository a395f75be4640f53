package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** report.json's training curves, from metrics.jsonl files written by the trainer's own MetricsLog. */
class TrainingCurvesTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void checkpointsOfOneRunShareItsCurvesAndEveryRunIsRead() throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path a = new Path(tmp.resolve("a").toUri());
        Path b = new Path(tmp.resolve("b").toUri());
        ReportFixtures.metrics(fs, a, 60, 2);
        ReportFixtures.metrics(fs, b, 40, 1);
        List<Inputs.CheckpointInput> cps = List.of(ReportFixtures.checkpoint(fs, a, 30, "a/30"),
                ReportFixtures.checkpoint(fs, b, 40, "b/40"), ReportFixtures.checkpoint(fs, a, 60, "a/60"));
        JsonNode runs = TrainingCurves.read(new Configuration(), cps).path("runs");
        assertEquals(2, runs.size());
        JsonNode ra = runs.get(0);
        assertEquals(a.toString(), ra.path("run").asText());
        assertEquals("[\"a/30\",\"a/60\"]", ra.path("checkpoints").toString());
        assertEquals("[30,60]", ra.path("evaluated_steps").toString());
        assertEquals(new Path(a, "metrics.jsonl").toString(), ra.path("metrics_file").asText());
        assertEquals(64, ra.path("metrics_sha256").asText().length());
        JsonNode t = ra.path("train");
        for (String f : TrainingCurves.TRAIN_FIELDS) {
            assertEquals(30, t.path(f).size(), f);
        }
        assertEquals(2, t.path("step").get(0).asLong());
        assertEquals(60L * 16 * 64, t.path("tokens").get(29).asLong());
        assertTrue(t.path("averaging_share").get(0).asDouble() > 0);
        JsonNode v = ra.path("validation");
        assertEquals("[10,20,30,40,50,60]", v.path("step").toString());
        assertEquals(10L * 16 * 64, v.path("tokens").get(0).asLong(), "tokens per step of the train records");
        assertEquals(6, v.path("loss").size());
        assertEquals("[30,60]", ra.path("checkpoint_steps").toString());
        assertEquals(20, runs.get(1).path("train").path("step").size());
        assertFalse(ra.has("error"));
    }

    @Test
    void aRunWithoutMetricsOrACheckpointOutsideARunIsReportedNotFatal() throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path noMetrics = new Path(tmp.resolve("copied").toUri());
        Inputs.CheckpointInput inRun = ReportFixtures.checkpoint(fs, noMetrics, 10, "copied/10");
        Path loose = new Path(tmp.resolve("loose-step").toUri());
        Files.createDirectories(tmp.resolve("loose-step"));
        Inputs.CheckpointInput outside = new Inputs.CheckpointInput("loose", loose, 5, "", "", "", 0, 512, 64, new byte[0]);
        JsonNode runs = TrainingCurves.read(new Configuration(), List.of(inRun, outside)).path("runs");
        assertEquals(2, runs.size());
        assertTrue(runs.get(0).path("error").asText().startsWith("no metrics.jsonl in "), runs.get(0).toString());
        assertTrue(runs.get(1).path("error").asText().contains("not inside a run's checkpoints/ folder"), runs.get(1).toString());
        assertFalse(runs.get(0).has("train"));
    }

    @Test
    void fieldsMissingFromARecordAreNullsAndUnknownKindsAreIgnored() throws IOException {
        ObjectNode n = ReportFixtures.JSON.createObjectNode();
        TrainingCurves.columns("""
                {"kind":"train","step":5,"loss":4.0,"tokens":500}
                {"kind":"something-new","step":6}

                {"kind":"validation","step":5}
                """, n);
        assertEquals("[null]", n.path("train").path("lr").toString());
        assertEquals("[4.0]", n.path("train").path("loss").toString());
        assertEquals("[null]", n.path("validation").path("loss").toString());
        assertEquals("[500]", n.path("validation").path("tokens").toString());
        ObjectNode none = ReportFixtures.JSON.createObjectNode();
        TrainingCurves.columns("{\"kind\":\"validation\",\"step\":5,\"loss\":3.0}\n", none);
        assertEquals("[null]", none.path("validation").path("tokens").toString(), "no train records: no token count");
    }

    @Test
    void aCausalFineTuneDrawsItsNewCorpusNotTheOriginalOne() throws IOException {
        ObjectNode n = ReportFixtures.JSON.createObjectNode();
        TrainingCurves.columns("""
                {"kind":"validation","step":0,"loss":4.5,"corpus":"new"}
                {"kind":"validation","step":0,"loss":3.1,"corpus":"original"}
                {"kind":"validation","step":10,"loss":4.3,"corpus":"new"}
                {"kind":"validation","step":10,"loss":3.3,"corpus":"original"}
                """, n);
        assertEquals("[0,10]", n.path("validation").path("step").toString());
        assertEquals("[4.5,4.3]", n.path("validation").path("loss").toString());
    }
}
