package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.jobs.ExitCode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure parts of reporting a standalone cluster-mode job's real outcome, on output captured from a real
 * standalone master (one worker, 2 cores, 1 GiB) and the embedded SparkSubmit in cluster mode: a driver that
 * failed (exit 2 from a bad key), one that finished, and a 4g driver no worker could hold (never launched;
 * spark-submit exited 0 for all three).
 */
class ClusterModeOutcomeTest {
    private static String resource(String name) throws IOException {
        try (InputStream in = ClusterModeOutcomeTest.class.getResourceAsStream("/cluster-mode/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static JsonNode master() throws IOException {
        return new ObjectMapper().readTree(resource("master.json"));
    }

    @Test
    void aDriverFitsOnlyAnAliveWorkerWithItsMemoryAndCores() throws IOException {
        JsonNode m = master();
        assertNull(DriverPlacement.whyNot(m, 512, 1));
        assertNull(DriverPlacement.whyNot(m, 1024, 2));
        String why = DriverPlacement.whyNot(m, DriverPlacement.memoryMb("4g"), 1);
        assertTrue(why.contains("4096 MiB") && why.contains("1024 MiB 2 cores") && why.contains("--driver-memory"), why);
        assertTrue(DriverPlacement.whyNot(m, 512, 3) != null, "3 cores do not fit a 2-core worker");
        JsonNode dead = new ObjectMapper().readTree(resource("master.json").replace("\"ALIVE\",\n    \"lastheartbeat\"",
                "\"DEAD\",\n    \"lastheartbeat\""));
        assertTrue(DriverPlacement.whyNot(dead, 512, 1) != null, "a dead worker holds nothing");
        assertEquals(4096, DriverPlacement.memoryMb("4g"));
        assertEquals(512, DriverPlacement.memoryMb("512m"));
        assertEquals(2048, DriverPlacement.memoryMb("2048"));
        assertEquals(1536, DriverPlacement.memoryMb("1536M"));
    }

    @Test
    void theFinalDriverStateIsReadFromSparkSubmitsOutputAndMapped() throws IOException {
        var failed = DriverOutcome.lastState(resource("submit-failed.log")).orElseThrow();
        assertEquals("driver-20261201213130-0001", failed.driverId());
        assertEquals("FAILED", failed.state());
        assertEquals(ExitCode.FAILED, DriverOutcome.exitCode(Optional.of(failed.state())));

        var finished = DriverOutcome.lastState(resource("submit-finished.log")).orElseThrow();
        assertEquals("FINISHED", finished.state(), "the last state wins over the earlier RUNNING");
        assertEquals(ExitCode.OK, DriverOutcome.exitCode(Optional.of(finished.state())));

        String notWaiting = resource("submit-not-waiting.log");
        assertEquals("SUBMITTED", DriverOutcome.lastState(notWaiting).orElseThrow().state());
        assertEquals(Optional.of("driver-20261201213211-0004"), DriverOutcome.submittedId(notWaiting));
        assertEquals(ExitCode.RETRY, DriverOutcome.exitCode(Optional.empty()));
        assertEquals(ExitCode.RETRY, DriverOutcome.exitCode(Optional.of("KILLED")));
        assertEquals(ExitCode.FAILED, DriverOutcome.exitCode(Optional.of("ERROR")));
    }

    @Test
    void theMastersJsonKnowsEveryDriversState() throws IOException {
        JsonNode m = master();
        assertEquals(Optional.of("SUBMITTED"), DriverOutcome.stateAtMaster(m, "driver-20261201213211-0004"));
        assertEquals(Optional.of("FINISHED"), DriverOutcome.stateAtMaster(m, "driver-20261201213153-0003"));
        assertEquals(Optional.of("FAILED"), DriverOutcome.stateAtMaster(m, "driver-20261201213130-0001"));
        assertEquals(Optional.empty(), DriverOutcome.stateAtMaster(m, "driver-nope"));
    }

    @Test
    void theMasterUiComesFromTheOptionThenTheDefaultPort() {
        assertEquals("http://m:9090", ClusterSubmit.masterUi("spark://h:7077", "http://m:9090/", null));
        assertEquals("http://h:8080", ClusterSubmit.masterUi("spark://h:7077", null, null));
        assertEquals("http://a:8080", ClusterSubmit.masterUi("spark://a:7077,b:7077", null, "/nonexistent"));
    }
}
