package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.jobs.KilnCliAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spark standalone cluster on 127.0.0.1 (a Master and two Worker JVMs started by {@code bin/kiln cluster start}
 * from the embedded Spark home), a real job submitted to it through SparkSubmit, and proof that its tasks ran in two
 * executor JVMs other than the driver. The cluster is always stopped, and every process it started must be gone.
 */
class StandaloneClusterIT {

    @Test
    void startSubmitToTwoExecutorJvmsAndStop(@TempDir Path runDir) throws Exception {
        Map<String, String> env = Map.of("KILN_RUN_DIR", runDir.toString(), "KILN_DRIVER_MEMORY", "1g");
        Path clusterDir = runDir.resolve("cluster");
        var started = KilnCliAccess.run(env, 180, "cluster", "start", "--workers", "2", "--cores", "1", "--memory", "1536m");
        try {
            assertEquals(0, started.exitCode(), started.output());
            assertTrue(started.output().contains("registered with the master: 2 workers, 2 cores"), started.output());

            var status = KilnCliAccess.run(env, 60, "cluster", "status");
            assertEquals(0, status.exitCode(), status.output());

            Path report = runDir.resolve("check.json");
            var check = KilnCliAccess.run(env, 300, "cluster", "check",
                    "--spark-conf", "spark.executor.memory=1g",
                    "-Dkiln.check.min-executors=2", "-Dkiln.check.tasks=12", "-Dkiln.check.output=" + report);
            assertEquals(0, check.exitCode(), check.output());

            JsonNode json = new ObjectMapper().readTree(report.toFile());
            assertTrue(json.path("master").asText().startsWith("spark://127.0.0.1:"), json.toString());
            long driverPid = json.path("driverPid").asLong();
            Set<Long> executorPids = new HashSet<>();
            Set<String> executorIds = new HashSet<>();
            for (JsonNode t : json.path("tasks")) {
                executorPids.add(t.path("pid").asLong());
                executorIds.add(t.path("executorId").asText());
                assertEquals("CpuBackend", t.path("nd4jBackend").asText(), "ND4J must load on every executor");
                assertEquals(512.0, t.path("matmulCheck").asDouble(), 1e-6);
            }
            assertEquals(12, json.path("tasks").size());
            assertEquals(2, executorPids.size(), "tasks must run in exactly two executor JVMs: " + executorPids);
            assertFalse(executorPids.contains(driverPid), "no task may run in the driver JVM");
            assertFalse(executorIds.contains("driver"));
        } finally {
            var stopped = KilnCliAccess.run(env, 120, "cluster", "stop");
            assertEquals(0, stopped.exitCode(), stopped.output());
        }
        JsonNode state = new ObjectMapper().readTree(clusterDir.resolve("cluster.stopped.json").toFile());
        assertNotEquals(0, state.path("masterPid").asLong());
        for (JsonNode pid : state.path("workerPids")) {
            assertFalse(ProcessHandle.of(pid.asLong()).map(ProcessHandle::isAlive).orElse(false), "worker " + pid + " still running");
        }
        assertFalse(ProcessHandle.of(state.path("masterPid").asLong()).map(ProcessHandle::isAlive).orElse(false), "master still running");
        assertFalse(Files.exists(clusterDir.resolve("cluster.json")));
        var after = KilnCliAccess.run(env, 60, "cluster", "status");
        assertEquals(1, after.exitCode(), "status after stop reports no cluster: " + after.output());
    }
}
