package dev.kiln.jobs.cluster;

import dev.kiln.jobs.KilnCliAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/kiln --deploy-mode cluster on a real standalone cluster (one worker, 2 cores, 1 GiB) through the embedded
 * SparkSubmit, where spark-submit itself exits 0 whatever happens to the driver: a driver no worker can hold is
 * refused up front (exit 2), a driver that fails exits 1, one that finishes exits 0.
 */
class ClusterDeployModeIT {

    @Test
    void clusterModeExitsWithTheDriversRealOutcome(@TempDir Path runDir) throws Exception {
        Map<String, String> env = Map.of("KILN_RUN_DIR", runDir.toString());
        var started = KilnCliAccess.run(env, 180, "cluster", "start", "--workers", "1", "--cores", "2", "--memory", "1g");
        try {
            assertEquals(0, started.exitCode(), started.output());

            // The default 4g driver cannot be placed on a 1g worker: refused before anything is submitted.
            var big = KilnCliAccess.run(env, 120, "cluster", "check", "--deploy-mode", "cluster");
            assertEquals(2, big.exitCode(), big.output());
            assertTrue(big.output().contains("can run a driver of 4096 MiB") && big.output().contains("1024 MiB 2 cores"), big.output());

            // A bad key makes the driver exit 2: its state is FAILED, and bin/kiln says so with exit 1.
            var failed = KilnCliAccess.run(env, 240, "cluster", "check", "--deploy-mode", "cluster", "--driver-memory", "512m",
                    "-Dkiln.check.tasks=0");
            assertEquals(1, failed.exitCode(), failed.output());
            assertTrue(failed.output().contains("ended FAILED"), failed.output());

            var ok = KilnCliAccess.run(env, 300, "cluster", "check", "--deploy-mode", "cluster", "--driver-memory", "512m",
                    "--spark-conf", "spark.executor.memory=480m", "-Dkiln.check.tasks=2", "-Dkiln.check.nd4j=false",
                    "-Dkiln.check.min-executors=1");
            assertEquals(0, ok.exitCode(), ok.output());
            assertTrue(ok.output().contains("ended FINISHED"), ok.output());
        } finally {
            var stopped = KilnCliAccess.run(env, 120, "cluster", "stop");
            assertEquals(0, stopped.exitCode(), stopped.output());
        }
    }
}
