package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.jobs.KilnCliAccess;
import dev.kiln.testing.LocalSpark;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults a cluster user meets, survived on a real standalone cluster (a Master and two Worker JVMs on 127.0.0.1,
 * started by {@code bin/kiln cluster start}), every job submitted through {@code bin/kiln} as a user would:
 * <ul>
 *   <li>{@code kill -9} of one executor JVM in the middle of {@code kiln preprocess}: Spark relaunches the executor,
 *       recomputes the lost tasks, and the documents equal an undisturbed run's;</li>
 *   <li>{@code kill -9} of one executor in the middle of {@code kiln pretrain}: the final weights and optimizer state
 *       are bit-identical to an undisturbed run's (a retried round recomputes the same replica from the round's
 *       inputs);</li>
 *   <li>{@code kill -9} of the driver in the middle of {@code kiln pretrain}, then {@code --resume --break-lock}: the
 *       stale lock refuses a plain re-run, and the resumed run ends bit-identical to the undisturbed one;</li>
 *   <li>{@code kill -9} of the driver in the middle of {@code kiln preprocess} and of {@code kiln tokenize}: no run and
 *       no shard is visible to a reader, and the re-run's output equals an undisturbed run's.</li>
 * </ul>
 * The kill happens on an observed state (an executor running a task; a logged step; a checkpoint on disk), never on
 * a timer, so a slow machine changes nothing but the duration.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultToleranceIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Static: JUnit fills static @TempDir fields before @BeforeAll, instance ones only per test. */
    @TempDir
    static Path runDir;
    Map<String, String> env;
    String master;
    List<Long> workerPids;
    Path sotu;
    Path shards;

    @BeforeAll
    void startClusterAndTokenize() throws Exception {
        env = Map.of("KILN_RUN_DIR", runDir.toString(), "KILN_DRIVER_MEMORY", "1g");
        var started = KilnCliAccess.run(env, 180, "cluster", "start", "--workers", "2", "--cores", "1", "--memory", "1536m");
        assertEquals(0, started.exitCode(), started.output());
        master = Files.readString(runDir.resolve("cluster/master-url")).trim();
        JsonNode state = JSON.readTree(runDir.resolve("cluster/cluster.json").toFile());
        workerPids = new ArrayList<>();
        state.path("workerPids").forEach(p -> workerPids.add(p.asLong()));
        assertEquals(2, workerPids.size(), state.toString());

        // Half of the speeches: enough for several tasks per stage, small enough for CI.
        sotu = Files.createDirectories(runDir.resolve("sotu"));
        try (Stream<Path> s = Files.list(SampleCorpora.sotu())) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            for (int i = 0; i < files.size(); i += 2) {
                Files.copy(files.get(i), sotu.resolve(files.get(i).getFileName()));
            }
        }
        var pre = kiln(300, "preprocess", "-Dkiln.preprocess.input.paths=" + sotu + "/*.json",
                "-Dkiln.preprocess.output.path=" + runDir.resolve("pre-reference"), "-Dkiln.preprocess.output.files=2");
        assertEquals(0, pre.exitCode(), pre.output());
        shards = runDir.resolve("shards");
        var tok = kiln(300, tokenizeArgs(shards));
        assertEquals(0, tok.exitCode(), tok.output());
    }

    @AfterAll
    void stopCluster() throws Exception {
        if (env != null) {
            var stopped = KilnCliAccess.run(env, 120, "cluster", "stop");
            assertEquals(0, stopped.exitCode(), stopped.output());
        }
    }

    @Test
    void anExecutorKilledMidPreprocessChangesNothing() throws Exception {
        Path out = runDir.resolve("pre-executor-killed");
        List<Path> earlierLogs = executorLogs();
        Job job = start("preprocess", "-Dkiln.preprocess.input.paths=" + sotu + "/*.json",
                "-Dkiln.preprocess.output.path=" + out, "-Dkiln.preprocess.output.files=2");
        // Only this job's executors: the logs of the set-up's jobs are still there.
        waitFor(job, () -> executorLogs().stream().filter(l -> !earlierLogs.contains(l)).anyMatch(l -> mentions(l, "Running task")),
                "an executor of this job running a task");
        long killed = killOneExecutor();
        Job.Finished done = job.await(600);
        assertEquals(0, done.exitCode(), done.output());
        assertTrue(done.output().contains("Lost executor"), "the driver must have seen executor " + killed + " die:\n"
                + done.output());
        assertEquals(documents(runDir.resolve("pre-reference")), documents(out));
        // The counts too: a retried or recomputed task must not be counted twice.
        assertEquals(stageCounts(runDir.resolve("pre-reference")), stageCounts(out));
    }

    @Test
    void anExecutorKilledMidPretrainEndsOnTheSameWeights() throws Exception {
        Checkpoint reference = referencePretrain();
        Path out = runDir.resolve("train-executor-killed");
        Job job = start(pretrainArgs(out));
        waitFor(job, () -> job.output().contains("step 20/80"), "step 20 logged");
        long killed = killOneExecutor();
        Job.Finished done = job.await(600);
        assertEquals(0, done.exitCode(), done.output());
        assertTrue(done.output().contains("Lost executor"), "executor " + killed + " was killed mid-run:\n" + done.output());
        assertSameWeights(reference, finalCheckpoint(out));
    }

    @Test
    void aDriverKilledMidPretrainResumesToTheSameWeights() throws Exception {
        Checkpoint reference = referencePretrain();
        Path out = runDir.resolve("train-driver-killed");
        Job job = start(pretrainArgs(out));
        waitFor(job, () -> Files.isDirectory(out.resolve("checkpoints/step-00000040")), "the step-40 checkpoint");
        job.killDriver();
        assertTrue(Files.exists(Path.of(out + ".lock")), "a killed driver leaves its lock behind");

        // Without --break-lock the stale lock refuses the run (exit 6) and names its holder.
        var refused = kiln(120, concat(pretrainArgs(out), "--resume"));
        assertEquals(6, refused.exitCode(), refused.output());
        var resumed = kiln(600, concat(pretrainArgs(out), "--resume", "--break-lock"));
        assertEquals(0, resumed.exitCode(), resumed.output());
        assertTrue(resumed.output().contains("resuming from"), resumed.output());
        assertSameWeights(reference, finalCheckpoint(out));
    }

    @Test
    void aDriverKilledMidPreprocessLeavesNoRunVisibleAndTheRerunEqualsTheReference() throws Exception {
        Path out = runDir.resolve("pre-driver-killed");
        String[] args = {"preprocess", "-Dkiln.preprocess.input.paths=" + sotu + "/*.json",
                "-Dkiln.preprocess.output.path=" + out, "-Dkiln.preprocess.output.files=2"};
        Job job = start(args);
        // Logged once the documents are read, cleaned and filtered: deduplication and the write are still to come.
        waitFor(job, () -> job.output().contains("[preprocess] read "), "the read stage's summary");
        job.killDriver();
        assertFalse(Files.exists(out.resolve("runs/run=0001/manifest.json")),
                "a run is visible only once committed; the killed one was not");
        var rerun = kiln(600, concat(args, "--break-lock"));
        assertEquals(0, rerun.exitCode(), rerun.output());
        assertEquals(documents(runDir.resolve("pre-reference")), documents(out));
        assertEquals(stageCounts(runDir.resolve("pre-reference")), stageCounts(out));
    }

    @Test
    void aDriverKilledMidTokenizeLeavesNoShardVisibleAndTheRerunEqualsTheReference() throws Exception {
        Path out = runDir.resolve("shards-driver-killed");
        String[] args = tokenizeArgs(out);
        Job job = start(args);
        // The tokenizer is trained on the driver; encoding and writing the shards over the executors follows.
        waitFor(job, () -> job.output().contains("tokenizer trained"), "the trained tokenizer");
        job.killDriver();
        assertFalse(Files.exists(out.resolve("manifest.json")), "shards are visible only through a committed manifest");
        var rerun = kiln(600, concat(args, "--break-lock"));
        assertEquals(0, rerun.exitCode(), rerun.output());
        JsonNode reference = JSON.readTree(shards.resolve("manifest.json").toFile());
        JsonNode rerunManifest = JSON.readTree(out.resolve("manifest.json").toFile());
        assertEquals(reference.path("tokenizerSha256"), rerunManifest.path("tokenizerSha256"));
        assertEquals(reference.path("shards"), rerunManifest.path("shards"), "same shards, rows, tokens and SHA-256");
        try (Stream<Path> files = Files.walk(out.resolve("shards"))) {
            assertEquals(reference.path("shards").size(), files.filter(Files::isRegularFile)
                    .filter(f -> f.toString().endsWith(".arrow")).count(), "no shard file besides the listed ones");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private Checkpoint referenceCheckpoint;

    /** The undisturbed pretrain, run once for both pretrain tests. */
    private synchronized Checkpoint referencePretrain() throws Exception {
        if (referenceCheckpoint == null) {
            Path out = runDir.resolve("train-reference");
            var r = kiln(600, pretrainArgs(out));
            assertEquals(0, r.exitCode(), r.output());
            referenceCheckpoint = finalCheckpoint(out);
        }
        return referenceCheckpoint;
    }

    private String[] tokenizeArgs(Path out) {
        return new String[]{"tokenize", "-Dkiln.tokenize.input=" + runDir.resolve("pre-reference"),
                "-Dkiln.tokenize.output=" + out, "-Dkiln.tokenize.context-length=64",
                "-Dkiln.tokenize.tokenizer.vocab-size=1024", "-Dkiln.tokenize.shards=2"};
    }

    /** A tiny GPT, two workers averaging every 10 steps, a checkpoint every 20 steps: 8 rounds. */
    private String[] pretrainArgs(Path out) {
        return new String[]{"pretrain", "-Dkiln.train.shards=" + shards, "-Dkiln.train.output=" + out,
                "-Dkiln.train.model.layers=1", "-Dkiln.train.model.d-model=32", "-Dkiln.train.model.heads=2",
                "-Dkiln.train.steps=80", "-Dkiln.train.optimizer.warmup-steps=10", "-Dkiln.train.batch-size=4", "-Dkiln.train.parallel.workers=2",
                "-Dkiln.train.parallel.average-every=10", "-Dkiln.train.log-every=10", "-Dkiln.train.validation.every=0",
                "-Dkiln.train.checkpoint.every=20", "-Dkiln.train.checkpoint.keep=10",
                "--spark-conf", "spark.executor.memory=1g"};
    }

    private static Checkpoint finalCheckpoint(Path out) throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        CheckpointStore store = new CheckpointStore(fs, new org.apache.hadoop.fs.Path(out.resolve("checkpoints").toUri()),
                Integer.MAX_VALUE);
        return store.load(store.latest().orElseThrow(() -> new AssertionError("no checkpoint under " + out)));
    }

    private static void assertSameWeights(Checkpoint expected, Checkpoint actual) {
        assertEquals(expected.step(), actual.step());
        assertArrayEquals(expected.model().params().data().asFloat(), actual.model().params().data().asFloat(),
                "weights must be bit-identical (assertArrayEquals on float[] compares exactly)");
        assertArrayEquals(expected.model().getUpdater().getStateViewArray().data().asFloat(),
                actual.model().getUpdater().getStateViewArray().data().asFloat(), "optimizer state must be bit-identical");
    }

    /** stats.json's per-stage document and byte counts and removal reasons, without the timings. */
    private static String stageCounts(Path output) throws IOException {
        JsonNode stages = JSON.readTree(output.resolve("stats.json").toFile()).path("stages").deepCopy();
        withoutTimings(stages);
        assertTrue(stages.size() > 3, "stats.json has no stages: " + stages);
        return stages.toPrettyString();
    }

    /** Removes every "seconds" and "task_seconds", at any depth (the stages' and each step's in stages.*.steps). */
    private static void withoutTimings(JsonNode node) {
        if (node instanceof ObjectNode o) {
            o.remove(List.of("seconds", "task_seconds"));
        }
        node.forEach(FaultToleranceIT::withoutTimings);
    }

    /** Every document as (id, hash, text), sorted by id: equal outputs, whatever the part files are called. */
    private static List<String> documents(Path output) {
        List<String> rows = new ArrayList<>();
        for (Row r : LocalSpark.get().read().parquet(output.resolve("documents").toString())
                .select("id", "hash", "cluster_id", "text").orderBy("id").collectAsList()) {
            rows.add(r.mkString("\u0001"));
        }
        assertFalse(rows.isEmpty(), "no documents under " + output);
        return rows;
    }

    /** SIGKILL to one executor JVM of this cluster (a child of one of its workers); returns its pid. */
    private long killOneExecutor() {
        List<ProcessHandle> executors = new ArrayList<>();
        for (long w : workerPids) {
            ProcessHandle.of(w).ifPresent(worker -> worker.descendants()
                    .filter(p -> p.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                    .forEach(executors::add));
        }
        assertFalse(executors.isEmpty(), "no executor JVM under workers " + workerPids);
        ProcessHandle victim = executors.get(0);
        assertTrue(victim.destroyForcibly(), "could not kill executor " + victim.pid());
        return victim.pid();
    }

    /** Every executor's stderr under the workers' folders (work/worker-N/app-ID/EXECUTOR/stderr). */
    private static List<Path> executorLogs() {
        try (Stream<Path> s = Files.walk(runDir.resolve("cluster/work"))) {
            return s.filter(p -> p.getFileName().toString().equals("stderr")).toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of(); // a folder vanished or appeared mid-walk: look again on the next poll
        }
    }

    private static boolean mentions(Path log, String text) {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    private static void waitFor(Job job, BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!condition.getAsBoolean()) {
            if (!job.process().isAlive()) {
                throw new AssertionError("the job ended before " + what + ":\n" + job.output());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within 300 s:\n" + job.output());
            }
            Thread.sleep(50);
        }
    }

    private KilnCliAccess.Result kiln(int timeoutSeconds, String... args) throws Exception {
        return KilnCliAccess.run(env, timeoutSeconds, concat(args, "--master", master));
    }

    private Job start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(repoRoot().resolve("bin/kiln").toString());
        cmd.addAll(Arrays.asList(concat(args, "--master", master)));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repoRoot().toFile()).redirectErrorStream(true);
        pb.environment().remove("SPARK_HOME");
        pb.environment().remove("KILN_MASTER");
        pb.environment().putAll(env);
        Path log = Files.createTempFile(runDir, "job-", ".log");
        pb.redirectOutput(log.toFile());
        return new Job(pb.start(), log);
    }

    private static Path repoRoot() {
        Path p = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("bin/kiln"))) {
            p = p.getParent();
        }
        return Optional.ofNullable(p).orElseThrow();
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** A {@code bin/kiln} run in the background, its output going to {@code log}. */
    record Job(Process process, Path log) {
        record Finished(int exitCode, String output) {
        }

        String output() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(log unreadable: " + e + ")";
            }
        }

        Finished await(int seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                killDriver();
                throw new AssertionError("the job did not finish in " + seconds + " s:\n" + output());
            }
            return new Finished(process.exitValue(), output());
        }

        /** SIGKILL to the driver JVM (in client mode bin/kiln execs it, so it is this process) and anything it started. */
        void killDriver() throws InterruptedException {
            List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
            all.add(process.toHandle());
            all.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle p : all) {
                p.onExit().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
            }
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
