package dev.kiln.jobs;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bin/kiln as a new user meets it: help, unknown commands, bad configuration, a job on the embedded Spark. */
class KilnCliIT {

    @Test
    void helpListsEveryCommand() throws Exception {
        var r = KilnCliAccess.run(Map.of(), 30, "--help");
        assertEquals(0, r.exitCode(), r.output());
        for (String cmd : new String[]{"preprocess", "tokenize", "pretrain", "finetune", "evaluate", "generate", "demo", "cluster", "fetch-samples"}) {
            assertTrue(r.output().contains(cmd), "help must mention " + cmd + ":\n" + r.output());
        }
        var c = KilnCliAccess.run(Map.of(), 30, "cluster", "--help");
        assertEquals(0, c.exitCode(), c.output());
        assertTrue(c.output().contains("kiln cluster start"), c.output());
    }

    @Test
    void unknownCommandFailsWithUsage() throws Exception {
        var r = KilnCliAccess.run(Map.of(), 30, "frobnicate");
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("unknown command 'frobnicate'"), r.output());
    }

    @Test
    void misspelledConfigKeyStopsTheJobBeforeSparkStartsAndNamesTheKey() throws Exception {
        var r = KilnCliAccess.run(Map.of("KILN_DRIVER_MEMORY", "1g"), 120, "cluster", "check", "--master", "local[1]", "-Dkiln.check.taks=3");
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("kiln.check.taks"), r.output());
        assertTrue(r.output().contains("did you mean kiln.check.tasks"), r.output());
        assertTrue(!r.output().contains("SparkContext: Running Spark"), "Spark must not start: " + r.output());
    }

    @Test
    void jobRunsOnTheEmbeddedSparkWithoutAnInstalledSpark() throws Exception {
        var r = KilnCliAccess.run(Map.of("KILN_DRIVER_MEMORY", "1g"), 180, "cluster", "check", "--master", "local[2]", "-Dkiln.check.tasks=4");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("\"sparkVersion\" : \"3.5.7\""), r.output());
        assertTrue(r.output().contains("4 tasks ran in 1 executor JVM(s)"), r.output());
    }
}
