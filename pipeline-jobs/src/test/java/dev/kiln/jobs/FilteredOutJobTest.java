package dev.kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.jobs.JobRuns.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kiln preprocess through its job: a run that keeps nothing, or too little, exits 8 and writes nothing. */
class FilteredOutJobTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void master() {
        System.setProperty("spark.master", "local[2]");
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

    /** Two real SOTU speeches (kept by the default filters) and {@code shortOnes} one-line documents (too few words). */
    private Path corpus(int shortOnes) throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        try (Stream<Path> s = Files.list(SampleCorpora.sotu())) {
            for (Path p : s.sorted().limit(2).toList()) {
                Files.copy(p, in.resolve(p.getFileName()));
            }
        }
        for (int i = 0; i < shortOnes; i++) {
            Files.writeString(in.resolve("short-" + i + ".txt"), "A short note number " + i + " that no quality filter keeps.");
        }
        return in;
    }

    @Test
    void aRunThatKeepsNothingExitsEightNamingTheTopReasonsAndWritesNothing() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        for (int i = 0; i < 4; i++) {
            Files.writeString(in.resolve("short-" + i + ".txt"), "A short note number " + i + " that no quality filter keeps.");
        }
        Files.writeString(in.resolve("empty.txt"), "\u200B\u200B \n");
        Path out = tmp.resolve("out");
        Run r = JobRuns.run(PreprocessJob.stage(), "-Dkiln.preprocess.input.paths=" + in, "-Dkiln.preprocess.output.path=" + out);
        assertEquals(ExitCode.FILTERED_OUT.code(), r.status(), r.err());
        assertTrue(r.err().contains("removed 5 of the 5 documents read") && r.err().contains("0 kept"), r.err());
        assertTrue(r.err().contains("too_few_words 4 (80.0%)"), r.err());
        assertTrue(r.err().contains("kiln.preprocess.filter.max-dropped-fraction = 0.99"), r.err());
        assertTrue(r.err().contains("(exit 8, filtered_out)"), r.err());
        assertFalse(Files.exists(out.resolve("_SUCCESS")) || Files.exists(out.resolve("documents")), "nothing written");
        JsonNode status = new ObjectMapper().readTree(out.resolve("status.json").toFile());
        assertEquals("failed", status.path("state").asText());
        assertEquals(8, status.path("exit_code").asInt());
        assertFalse(Files.exists(tmp.resolve("out.lock")));

        // 1.0 turns the check off: the empty run is written and exits 0.
        Run off = JobRuns.run(PreprocessJob.stage(), "-Dkiln.preprocess.input.paths=" + in, "-Dkiln.preprocess.output.path=" + out,
                "-Dkiln.preprocess.filter.max-dropped-fraction=1.0");
        assertEquals(0, off.status(), off.err());
        assertEquals(0, new ObjectMapper().readTree(out.resolve("stats.json").toFile()).path("stages").path("filter")
                .path("documents_out").asLong());
    }

    @Test
    void aRunOverTheFractionExitsEightAndOneUnderItIsWritten() throws Exception {
        Path in = corpus(6);
        Path out = tmp.resolve("out");
        // 6 of 8 dropped = 0.75: over a limit of 0.7, under the default 0.99.
        Run over = JobRuns.run(PreprocessJob.stage(), "-Dkiln.preprocess.input.paths=" + in, "-Dkiln.preprocess.output.path=" + out,
                "-Dkiln.preprocess.filter.max-dropped-fraction=0.7");
        assertEquals(ExitCode.FILTERED_OUT.code(), over.status(), over.err());
        assertTrue(over.err().contains("removed 6 of the 8 documents read (75.00%; 2 kept)"), over.err());
        assertTrue(over.err().contains("too_few_words 6 (75.0%)"), over.err());
        assertFalse(Files.exists(out.resolve("documents")));

        Run under = JobRuns.run(PreprocessJob.stage(), "-Dkiln.preprocess.input.paths=" + in, "-Dkiln.preprocess.output.path=" + out);
        assertEquals(0, under.status(), under.err());
        JsonNode stats = new ObjectMapper().readTree(out.resolve("stats.json").toFile());
        assertEquals(2, stats.path("stages").path("filter").path("documents_out").asLong(), stats.toString());
        // The documents kept per language reach status.json too.
        JsonNode status = new ObjectMapper().readTree(out.resolve("status.json").toFile());
        assertEquals(2, status.path("counts").path("language_en").asLong(), status.toString());
        assertEquals(2, stats.path("languages").path("en").path("documents").asLong(), stats.path("languages").toString());
    }
}
