package dev.kiln.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `kiln evaluate`'s exit status on bad configuration and bad inputs (the scoring itself is tested in evaluation/). */
class EvaluateJobTest {
    @TempDir
    Path tmp;

    @Test
    void aMisspelledKeyExitsWith2BeforeSparkStarts() {
        assertEquals(2, EvaluateJob.run(new String[]{"-Dkiln.evaluate.run-nme=x"}));
    }

    @Test
    void classifierPredictionsWithoutTheirDocumentsExitWith2BeforeSparkStarts() {
        assertEquals(2, EvaluateJob.run(new String[]{"-Dkiln.evaluate.classifier.predictions=finetune/predictions"}));
    }

    @Test
    void aDryRunChecksTheInputsWithoutSparkAndWritesNothing() {
        Path reports = tmp.resolve("reports");
        JobRuns.Run r = JobRuns.capture(() -> EvaluateJob.run(new String[]{"-Dkiln.evaluate.output=" + reports,
                "-Dkiln.evaluate.checkpoints=" + tmp.resolve("no-checkpoint"), "-Dkiln.evaluate.shards=" + tmp.resolve("no-shards"),
                "--dry-run"}));
        assertEquals(2, r.status(), r.both());
        assertTrue(r.err().contains("kiln.evaluate.shards") && r.err().contains("no-shards") && r.err().contains("manifest.json"), r.err());
        assertFalse(Files.exists(reports), "a dry run writes nothing");
    }

    @Test
    void anExistingReportFolderExitsWith2AndNothingIsWritten() throws IOException {
        Path reports = tmp.resolve("reports");
        Files.createDirectories(reports.resolve("taken"));
        String master = System.getProperty("spark.master");
        System.setProperty("spark.master", "local[1]");
        System.setProperty("spark.ui.enabled", "false");
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
        try {
            int status = EvaluateJob.run(new String[]{"-Dkiln.evaluate.output=" + reports, "-Dkiln.evaluate.run-name=taken",
                    "-Dkiln.evaluate.checkpoints=" + tmp.resolve("none"), "-Dkiln.evaluate.shards=" + tmp.resolve("none")});
            assertEquals(2, status);
        } finally {
            if (master == null) {
                System.clearProperty("spark.master");
            } else {
                System.setProperty("spark.master", master);
            }
        }
        try (var s = Files.list(reports)) {
            assertEquals(List.of("taken"), s.map(p -> p.getFileName().toString()).toList());
        }
        try (var s = Files.list(reports.resolve("taken"))) {
            assertEquals(0, s.count());
        }
    }
}
