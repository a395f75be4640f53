package dev.kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.BadInputException;
import dev.kiln.common.io.DroppedInputException;
import dev.kiln.common.io.MissingInputException;
import dev.kiln.common.io.OutputLock;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.jobs.JobRuns.Run;
import dev.kiln.testing.LineageAssertions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a scheduler sees from the stages through JobRunner: exit codes, the output lock, status.json, --dry-run.
 * Real runs of kiln preprocess on local[1] (tokenize and pretrain share the same JobRunner path).
 */
class SchedulingTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void master() {
        System.setProperty("spark.master", "local[1]");
        System.setProperty("spark.ui.enabled", "false");
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
    }

    @AfterAll
    static void clear() {
        for (String p : new String[]{"spark.master", "spark.ui.enabled", "spark.driver.host", "spark.driver.bindAddress"}) {
            System.clearProperty(p);
        }
    }

    private static <C> Run run(JobRunner.Stage<C> stage, String... args) {
        return JobRuns.run(stage, args);
    }

    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void failuresMapToTheCodesASchedulerActsOn() {
        assertEquals(ExitCode.MISSING_INPUT, ExitCode.of(new MissingInputException("no")));
        assertEquals(ExitCode.BAD_INPUT, ExitCode.of(new BadInputException("bad")));
        assertEquals(ExitCode.BAD_CONFIG, ExitCode.of(new InvalidConfigException("kiln.x", null, "bad")));
        assertEquals(ExitCode.RETRY, ExitCode.of(new IOException("disk")));
        assertEquals(ExitCode.RETRY, ExitCode.of(new SparkException("Job aborted due to stage failure")));
        assertEquals(ExitCode.RETRY, ExitCode.of(new UncheckedIOException(new IOException("x"))));
        assertEquals(ExitCode.FAILED, ExitCode.of(new IllegalStateException("incompatible output")));
        // The most specific cause wins over a wrapping I/O or Spark exception.
        assertEquals(ExitCode.MISSING_INPUT, ExitCode.of(new SparkException("task failed", new MissingInputException("gone"))));
        assertEquals(ExitCode.BAD_INPUT, ExitCode.of(new RuntimeException(new BadInputException("bad"))));
        assertEquals(ExitCode.FILTERED_OUT, ExitCode.of(new SparkException("x", new DroppedInputException("empty"))));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8), Stream.of(ExitCode.values()).map(ExitCode::code).toList());
        for (ExitCode c : ExitCode.values()) {
            assertTrue(ExitCode.table().contains(c.code() + "  " + c.name().toLowerCase().replace('_', '-')), ExitCode.table());
        }
    }

    @Test
    void dryRunListsTheNewFilesAndWritesNothing() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.writeString(in.resolve("a.txt"), "The first document of the corpus, long enough to keep for this test.");
        Files.writeString(in.resolve("b.txt"), "The second document of the corpus, also long enough to be kept here.");
        Path out = tmp.resolve("out");
        List<String> before = tree(tmp);
        Run r = run(PreprocessJob.stage(), "--dry-run", "-Dkiln.preprocess.input.paths=" + in,
                "-Dkiln.preprocess.output.path=" + out);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("would write run run=0001 from 2 new file(s)"), r.out());
        assertTrue(r.out().contains("a.txt") && r.out().contains("b.txt"), r.out());
        assertEquals(before, tree(tmp), "a dry run writes nothing: no output, no lock, no status");

        Run missing = run(PreprocessJob.stage(), "--dry-run", "-Dkiln.preprocess.input.paths=" + tmp.resolve("nope/*.txt"),
                "-Dkiln.preprocess.output.path=" + out);
        assertEquals(ExitCode.MISSING_INPUT.code(), missing.status(), missing.err());
        assertTrue(missing.err().contains("matches no files"), missing.err());

        Run tokenize = run(TokenizeJob.stage(), "--dry-run", "-Dkiln.tokenize.input=" + tmp.resolve("none"),
                "-Dkiln.tokenize.output=" + tmp.resolve("tok"));
        assertEquals(ExitCode.MISSING_INPUT.code(), tokenize.status(), tokenize.err());
        Run pretrain = run(PretrainJob.stage(), "--dry-run", "-Dkiln.train.shards=" + tmp.resolve("none"),
                "-Dkiln.train.output=" + tmp.resolve("pt"));
        assertEquals(ExitCode.MISSING_INPUT.code(), pretrain.status(), pretrain.err());
        assertTrue(pretrain.err().contains("run `kiln tokenize` first"), pretrain.err());
        assertEquals(before, tree(tmp), "failed dry runs write nothing either");

        Run typo = run(PreprocessJob.stage(), "--dry-rn", "-Dkiln.preprocess.input.paths=" + in, "-Dkiln.preprocess.output.path=" + out);
        assertEquals(ExitCode.BAD_CONFIG.code(), typo.status());
        assertTrue(typo.err().contains("unknown option --dry-rn"), typo.err());
    }

    @Test
    void aRunTakesAndReleasesTheLockWritesStatusAndAHeldLockExitsSix() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.writeString(in.resolve("a.txt"), "The first document of the corpus, long enough to keep for this test run.");
        Path out = tmp.resolve("out");
        // One-line documents: Gopher's 50-word minimum would drop them all (exit 8, filtered-out).
        String[] args = {"-Dkiln.preprocess.input.paths=" + in, "-Dkiln.preprocess.output.path=" + out,
                "-Dkiln.preprocess.filter.min-words=5"};
        Run first = run(PreprocessJob.stage(), args);
        assertEquals(0, first.status(), first.err());
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        assertFalse(Files.exists(tmp.resolve("out.lock")), "released at the end");
        JsonNode status = new ObjectMapper().readTree(out.resolve("status.json").toFile());
        assertEquals("preprocess", status.path("stage").asText());
        assertEquals(1, status.path("run").asInt());
        assertEquals("succeeded", status.path("state").asText());
        assertEquals(0, status.path("exit_code").asInt());
        assertEquals(1, status.path("counts").path("input_files").asLong());
        assertFalse(status.path("started").asText().isEmpty() || status.path("ended").asText().isEmpty());
        // stats.json records the run's lineage: this build's Kiln version, the session's Spark, the effective section.
        JsonNode stats = new ObjectMapper().readTree(out.resolve("stats.json").toFile());
        LineageAssertions.assertLineage(stats.path("lineage"), "preprocess", "kiln.preprocess");
        assertEquals(org.apache.spark.package$.MODULE$.SPARK_VERSION(), stats.path("lineage").path("runtime").path("spark").asText());
        assertEquals(out.toString(), stats.path("lineage").path("config").path("output").path("path").asText());
        assertEquals(stats.path("config"), stats.path("lineage").path("config"));
        // The run manifest records the same lineage object (and still its config).
        JsonNode runManifest = new ObjectMapper().readTree(out.resolve("runs/run=0001/manifest.json").toFile());
        LineageAssertions.assertLineage(runManifest.path("lineage"), "preprocess", "kiln.preprocess");
        assertEquals(stats.path("lineage"), runManifest.path("lineage"));
        assertEquals(stats.path("config"), runManifest.path("config"));

        // Another run holds the lock: exit 6, naming the file, the holder and how to clear it; nothing touched.
        FileSystem fs = FileSystem.getLocal(new Configuration());
        try (OutputLock held = OutputLock.acquire(fs, new org.apache.hadoop.fs.Path(out.toUri()), "preprocess", false)) {
            Files.writeString(in.resolve("b.txt"), "A second document arrives while the other run still holds the lock.");
            Run locked = run(PreprocessJob.stage(), args);
            assertEquals(ExitCode.LOCK_HELD.code(), locked.status(), locked.err());
            assertTrue(locked.err().contains(tmp.resolve("out.lock").toString()), locked.err());
            assertTrue(locked.err().contains("pid " + ProcessHandle.current().pid()) && locked.err().contains(held.holder().started()),
                    locked.err());
            assertTrue(locked.err().contains("--break-lock"), locked.err());
            assertEquals(1, new ObjectMapper().readTree(out.resolve("status.json").toFile()).path("run").asInt(), "status untouched");

            // A stale lock (its holder is known to be gone): --break-lock takes it over and runs.
            Run broken = run(PreprocessJob.stage(), args[0], args[1], args[2], "--break-lock");
            assertEquals(0, broken.status(), broken.err());
            assertEquals(2, new ObjectMapper().readTree(out.resolve("status.json").toFile()).path("run").asInt());
        }
        assertFalse(Files.exists(tmp.resolve("out.lock")));

        // Nothing new: exit 0, state up_to_date.
        Run again = run(PreprocessJob.stage(), args);
        assertEquals(0, again.status(), again.err());
        assertEquals("up_to_date", new ObjectMapper().readTree(out.resolve("status.json").toFile()).path("state").asText());

        // A failure is recorded too, with the exit code the scheduler got.
        Files.writeString(in.resolve("a.txt"), "Changed content of a file an earlier run already processed and published.");
        Run changed = run(PreprocessJob.stage(), args);
        JsonNode failed = new ObjectMapper().readTree(out.resolve("status.json").toFile());
        assertEquals("failed", failed.path("state").asText());
        assertEquals(changed.status(), failed.path("exit_code").asInt());
        assertFalse(Files.exists(tmp.resolve("out.lock")), "released on failure too");
    }
    @Test
    void tokenizeDryRunListsTheNewPreprocessRunThenARunWritesSuccessAndStatus() throws Exception {
        // Three real SOTU speeches, preprocessed by the job, are run 1 of the preprocess output.
        Path in = Files.createDirectories(tmp.resolve("sotu"));
        try (Stream<Path> s = Files.list(SampleCorpora.sotu())) {
            for (Path p : s.sorted().limit(3).toList()) {
                Files.copy(p, in.resolve(p.getFileName()));
            }
        }
        Path docs = tmp.resolve("docs");
        assertEquals(0, run(PreprocessJob.stage(), "-Dkiln.preprocess.input.paths=" + in, "-Dkiln.preprocess.output.path=" + docs).status());

        Path tok = tmp.resolve("tok");
        String[] args = {"-Dkiln.tokenize.input=" + docs, "-Dkiln.tokenize.output=" + tok, "-Dkiln.tokenize.context-length=32",
                "-Dkiln.tokenize.tokenizer.vocab-size=300", "-Dkiln.tokenize.validation-fraction=0"};
        List<String> before = tree(tmp);
        Run dry = run(TokenizeJob.stage(), concat("--dry-run", args));
        assertEquals(0, dry.status(), dry.err());
        assertTrue(dry.out().contains("would tokenize 1 new preprocess run(s)") && dry.out().contains("run=0001"), dry.out());
        assertEquals(before, tree(tmp), "a dry run writes nothing");

        Run real = run(TokenizeJob.stage(), args);
        assertEquals(0, real.status(), real.err());
        assertTrue(Files.exists(tok.resolve("_SUCCESS")));
        assertFalse(Files.exists(tmp.resolve("tok.lock")));
        JsonNode status = new ObjectMapper().readTree(tok.resolve("status.json").toFile());
        assertEquals("tokenize", status.path("stage").asText());
        assertEquals("succeeded", status.path("state").asText());
        assertEquals(1, status.path("run").asInt());
        assertTrue(status.path("counts").path("train_tokens").asLong() > 0, status.toString());
        JsonNode manifest = new ObjectMapper().readTree(tok.resolve("manifest.json").toFile());
        LineageAssertions.assertLineage(manifest.path("lineage"), "tokenize", "kiln.tokenize");
        assertEquals(32, manifest.path("lineage").path("config").path("context-length").asInt());
        assertEquals(manifest.path("config"), manifest.path("lineage").path("config"));

        Run again = run(TokenizeJob.stage(), concat("--dry-run", args));
        assertTrue(again.out().contains("nothing new"), again.out());
        assertEquals(0, run(TokenizeJob.stage(), args).status());
        assertEquals("up_to_date", new ObjectMapper().readTree(tok.resolve("status.json").toFile()).path("state").asText());
    }

    private static String[] concat(String first, String[] rest) {
        String[] out = new String[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
