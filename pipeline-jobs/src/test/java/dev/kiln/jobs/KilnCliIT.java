package dev.kiln.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bin/kiln as a new user meets it: help, unknown commands, bad configuration, a job on the embedded Spark. */
class KilnCliIT {
    /** What JobRunner logs at INFO once the config is valid, right before the SparkSession starts. */
    private static final String STARTING_SPARK = "kiln cluster-check: configuration CheckConfig[";

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
    void gpuDiscoveryScriptReportsTheAddressesNvidiaSmiLists(@TempDir Path dir) throws Exception {
        // nvidia-smi stands in for a two-GPU host; the script's output is what Spark parses as ResourceInformation.
        Path smi = dir.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\nprintf '0\\n 1\\n'\n");
        smi.toFile().setExecutable(true);
        ProcessBuilder pb = new ProcessBuilder(KilnCliAccess.repoRoot().resolve("bin/gpu-discovery.sh").toString()).redirectErrorStream(true);
        pb.environment().put("PATH", dir + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor());
        assertEquals("{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\"]}", out);
    }

    @Test
    void unknownCommandFailsWithUsage() throws Exception {
        var r = KilnCliAccess.run(Map.of(), 30, "frobnicate");
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("unknown command 'frobnicate'"), r.output());
    }

    @Test
    void stageMissingFromTheJarSaysSoAndFails(@TempDir Path dir) throws Exception {
        // A jar without the stage's class stands for a build in which that stage does not exist yet.
        Path jar = dir.resolve("kiln.jar");
        try (var out = new ZipOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
            out.write("Manifest-Version: 1.0\n".getBytes());
            out.closeEntry();
        }
        var r = KilnCliAccess.run(Map.of("KILN_JAR", jar.toString()), 30, "finetune", "--conf", "conf/local.conf");
        assertEquals(3, r.exitCode(), r.output());
        assertTrue(r.output().contains("kiln finetune: this stage is not implemented in this build of Kiln yet"), r.output());
    }

    @Test
    void misspelledConfigKeyStopsTheJobBeforeSparkStartsAndNamesTheKey() throws Exception {
        var r = KilnCliAccess.run(Map.of("KILN_DRIVER_MEMORY", "1g"), 120, "cluster", "check", "--master", "local[1]", "-Dkiln.check.taks=3");
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("kiln.check.taks"), r.output());
        assertTrue(r.output().contains("did you mean kiln.check.tasks"), r.output());
        // JobRunner logs the loaded configuration (dev.kiln at INFO, which conf/spark/log4j2.properties shows) just
        // before it starts Spark: a rejected key must stop the job before that line. (Spark's own INFO lines, such
        // as "Running Spark version", never show under that WARN configuration, so they prove nothing either way.)
        assertTrue(!r.output().contains(STARTING_SPARK), "Spark must not start: " + r.output());
    }

    @Test
    void withSparkHomeTheRealSparkSubmitGetsTheSameArguments(@TempDir Path dir) throws Exception {
        // A SPARK_HOME whose bin/spark-submit records its arguments, then runs Spark's SparkSubmit on the embedded jars
        // (the way the real script does through the launcher), so the job really runs.
        Path bin = Files.createDirectories(dir.resolve("spark/bin"));
        Path args = dir.resolve("args.txt");
        Path script = bin.resolve("spark-submit");
        String jars = KilnCliAccess.repoRoot().resolve("pipeline-jobs/spark-home/target/jars") + "/*";
        Files.writeString(script, "#!/usr/bin/env bash\n"
                + "printf '%s\\n' \"$@\" > '" + args + "'\n"
                + "exec java --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED "
                + "--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED "
                + "-Xmx1g -cp '" + jars + "' org.apache.spark.deploy.SparkSubmit \"$@\"\n");
        script.toFile().setExecutable(true);
        var r = KilnCliAccess.run(Map.of("SPARK_HOME", dir.resolve("spark").toString()), 180,
                "cluster", "check", "--master", "local[2]", "--spark-conf", "spark.ui.enabled=false", "-Dkiln.check.tasks=2");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("2 tasks ran in 1 executor JVM(s)"), r.output());
        List<String> passed = Files.readAllLines(args);
        String joined = String.join(" ", passed);
        assertTrue(joined.startsWith("--master local[2] --deploy-mode client"), joined);
        assertTrue(joined.contains("--class dev.kiln.jobs.ClusterCheckJob"), joined);
        assertTrue(joined.contains("--conf spark.ui.enabled=false"), joined);
        assertTrue(joined.endsWith("kiln.jar -Dkiln.check.tasks=2"), joined);
    }

    @Test
    void jobRunsOnTheEmbeddedSparkWithoutAnInstalledSpark() throws Exception {
        var r = KilnCliAccess.run(Map.of("KILN_DRIVER_MEMORY", "1g"), 180, "cluster", "check", "--master", "local[2]", "-Dkiln.check.tasks=4");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("\"sparkVersion\" : \"3.5.7\""), r.output());
        assertTrue(r.output().contains(STARTING_SPARK), "the line the bad-key test looks for shows in a real run: " + r.output());
        assertTrue(r.output().contains("4 tasks ran in 1 executor JVM(s)"), r.output());
    }
    /**
     * The cron example's daily --dry-run line, run through bin/kiln as cron would (its /opt/kiln and /data swapped for
     * this checkout and a temp folder): exit 0, the new files listed, nothing written; and --help lists the exit codes.
     */
    @Test
    void theCronDryRunCommandRunsAndWritesNothing(@TempDir Path dir) throws Exception {
        String cron = Files.readString(KilnCliAccess.repoRoot().resolve("conf/scheduling/kiln.cron"));
        Matcher m = Pattern.compile("\\$KILN (preprocess --dry-run[^>]*)>>").matcher(cron);
        assertTrue(m.find(), cron);
        Path incoming = Files.createDirectories(dir.resolve("data/incoming"));
        Files.writeString(incoming.resolve("a.jsonl"), "{\"text\": \"one document\"}\n");
        String[] args = m.group(1).trim().replace("/opt/kiln/", KilnCliAccess.repoRoot() + "/").replace("/data/", dir + "/data/").split(" +");
        List<String> before;
        try (var s = Files.walk(dir)) {
            before = s.map(Object::toString).sorted().toList();
        }
        var r = KilnCliAccess.run(Map.of("KILN_DRIVER_MEMORY", "1g"), 120, args);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("a.jsonl") && r.output().contains("would write run run=0001"), r.output());
        try (var s = Files.walk(dir)) {
            assertEquals(before, s.map(Object::toString).sorted().toList(), "a dry run writes nothing");
        }
        var help = KilnCliAccess.run(Map.of(), 30, "--help");
        assertTrue(help.output().contains("6  lock-held") && help.output().contains("4  missing-input"), help.output());
    }
}
