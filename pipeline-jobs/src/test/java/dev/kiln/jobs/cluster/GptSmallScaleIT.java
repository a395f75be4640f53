package dev.kiln.jobs.cluster;

import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.jobs.KilnCliAccess;
import dev.kiln.jobs.MeasuredRun;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model of GPT-2 small's shape (12 blocks, d-model 768, 12 heads, context 1024, the tokenizer's ~32k vocabulary,
 * tied head: 110 M parameters) trained with two workers, as a user would through {@code bin/kiln}:
 * <ul>
 *   <li>on {@code local[2]} (the driver and both replicas in one JVM) with activation checkpointing: the JVM's peak
 *       resident memory stays under 20 GB on this 24 GiB machine, and checkpoints are written at steps 2 and 4;</li>
 *   <li>on a real standalone cluster on 127.0.0.1 (two executor JVMs): {@code --resume} from a copy of the local run's
 *       step-2 checkpoint continues to step 4 with weights and AdamW moments byte-identical to the local run's.</li>
 * </ul>
 * Peak resident memory is each JVM's own high-water mark ({@code VmHWM}), sampled every second while it runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GptSmallScaleIT {
    private static final double AIM_BYTES = 20e9;
    @TempDir
    static Path runDir;
    private Map<String, String> env;
    private Path shards;
    private Path localRun;

    @BeforeAll
    void tokenizeTheSpeechesWithAGpt2SizedVocabulary() throws Exception {
        env = Map.of("KILN_RUN_DIR", runDir.toString(), "KILN_DRIVER_MEMORY", "2g");
        Path pre = runDir.resolve("pre");
        var preprocess = KilnCliAccess.run(env, 600, "preprocess", "--master", "local[2]",
                "-Dkiln.preprocess.input.paths=" + SampleCorpora.sotu() + "/*.json", "-Dkiln.preprocess.output.path=" + pre);
        assertEquals(0, preprocess.exitCode(), preprocess.output());
        shards = runDir.resolve("tokenized");
        var tokenize = KilnCliAccess.run(env, 600, "tokenize", "--master", "local[2]", "-Dkiln.tokenize.input=" + pre,
                "-Dkiln.tokenize.output=" + shards, "-Dkiln.tokenize.context-length=1024",
                "-Dkiln.tokenize.tokenizer.vocab-size=32768", "-Dkiln.tokenize.shards=2");
        assertEquals(0, tokenize.exitCode(), tokenize.output());
    }

    @Test
    void twoWorkersOnLocal2FitIn20GigabytesAndCheckpoint() throws Exception {
        Path out = localRun();
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-00000002")), "step-2 checkpoint");
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-00000004")), "step-4 checkpoint");
    }

    @Test
    void resumesOnTheStandaloneClusterToByteIdenticalWeights() throws Exception {
        Path reference = localRun().resolve("checkpoints/step-00000004/model.zip");
        Path out = runDir.resolve("cluster-resumed");
        copyWithoutStep4(localRun(), out);
        var started = KilnCliAccess.run(env, 180, "cluster", "start", "--workers", "2", "--cores", "1", "--memory", "5g");
        assertEquals(0, started.exitCode(), started.output());
        try {
            String master = Files.readString(runDir.resolve("cluster/master-url")).trim();
            var resumed = MeasuredRun.of(env, 1800, "CoarseGrainedExecutorBackend", concat(pretrainArgs(out),
                    "--resume", "--master", master, "--driver-memory", "4g", "--driver-off-heap", "3g",
                    "--executor-off-heap", "3g", "--spark-conf", "spark.executor.memory=4g"));
            assertEquals(0, resumed.exitCode(), resumed.output());
            assertTrue(resumed.output().contains("step 4/4"), resumed.output());
            assertEquals(2, resumed.matchingPeaks().size(), "two executor JVMs: " + resumed.matchingPeaks());
            System.out.println("[GptSmallScaleIT] standalone: driver peak " + gb(resumed.launchedPeak())
                    + ", executors " + resumed.matchingPeaks().values().stream().map(GptSmallScaleIT::gb).toList());
        } finally {
            var stopped = KilnCliAccess.run(env, 120, "cluster", "stop");
            assertEquals(0, stopped.exitCode(), stopped.output());
        }
        Path resumedZip = out.resolve("checkpoints/step-00000004/model.zip");
        for (String entry : List.of("coefficients.bin", "updaterState.bin")) {
            assertSameEntry(reference, resumedZip, entry);
        }
    }

    /** The local[2] run, once: 4 steps of 2 workers x 1 row of 1024 tokens, averaging and a checkpoint every 2. */
    private synchronized Path localRun() throws Exception {
        if (localRun == null) {
            Path out = runDir.resolve("local");
            var run = MeasuredRun.of(env, 1800, null, concat(pretrainArgs(out), "--master", "local[2]",
                    "--driver-memory", "8g", "--driver-off-heap", "9g"));
            assertEquals(0, run.exitCode(), run.output());
            System.out.println("[GptSmallScaleIT] local[2]: peak resident " + gb(run.launchedPeak()));
            assertTrue(run.output().contains("(activations recomputed)"), "activation checkpointing is logged: " + run.output());
            assertTrue(run.launchedPeak() < AIM_BYTES, "local[2] peak resident " + gb(run.launchedPeak()) + " over 20 GB");
            localRun = out;
        }
        return localRun;
    }

    private String[] pretrainArgs(Path out) {
        return new String[]{"pretrain", "-Dkiln.train.shards=" + shards, "-Dkiln.train.output=" + out,
                "-Dkiln.train.model.layers=12", "-Dkiln.train.model.d-model=768", "-Dkiln.train.model.heads=12",
                "-Dkiln.train.recompute-activations=true", "-Dkiln.train.batch-size=1", "-Dkiln.train.steps=4",
                "-Dkiln.train.optimizer.warmup-steps=2", "-Dkiln.train.parallel.workers=2",
                "-Dkiln.train.parallel.average-every=2", "-Dkiln.train.log-every=1", "-Dkiln.train.validation.every=0",
                "-Dkiln.train.checkpoint.every=2", "-Dkiln.train.checkpoint.keep=3"};
    }

    /** The run's output folder as it was after step 2: everything but the step-4 checkpoint. */
    private static void copyWithoutStep4(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path rel = from.relativize(f);
                if (rel.startsWith(Path.of("checkpoints", "step-00000004"))) {
                    continue;
                }
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to.resolve(rel));
                } else {
                    Files.copy(f, to.resolve(rel));
                }
            }
        }
    }

    private static void assertSameEntry(Path expectedZip, Path actualZip, String name) throws IOException {
        try (ZipFile a = new ZipFile(expectedZip.toFile()); ZipFile b = new ZipFile(actualZip.toFile())) {
            ZipEntry ea = a.getEntry(name);
            ZipEntry eb = b.getEntry(name);
            assertTrue(ea != null && eb != null, name + " in both checkpoints");
            assertEquals(ea.getSize(), eb.getSize(), name + " size");
            try (InputStream x = a.getInputStream(ea); InputStream y = b.getInputStream(eb)) {
                byte[] bx = new byte[1 << 20];
                byte[] by = new byte[1 << 20];
                long offset = 0;
                int n;
                while ((n = x.readNBytes(bx, 0, bx.length)) > 0) {
                    assertEquals(n, y.readNBytes(by, 0, n), name + " length at " + offset);
                    assertTrue(Arrays.equals(bx, 0, n, by, 0, n), name + " differs in the MiB at byte " + offset);
                    offset += n;
                }
            }
        }
    }

    private static String[] concat(String[] a, String... b) {
        return Stream.concat(Arrays.stream(a), Arrays.stream(b)).toArray(String[]::new);
    }

    private static String gb(long bytes) {
        return String.format("%.2f GB", bytes / 1e9);
    }
}
