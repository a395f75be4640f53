package dev.kiln.tokenize;

import dev.kiln.documents.IndexSpec;
import dev.kiln.documents.RunManifest;
import dev.kiln.shards.Manifest;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which preprocess runs an incremental tokenize run takes: pure logic, no Spark. */
class TokenizeRunsTest {
    private static final Path OUT = new Path("file:/data/tokenized");

    private static RunManifest.Committed run(int n, String sha) {
        RunManifest m = new RunManifest(RunManifest.FORMAT_VERSION, n, "2026-01-01T00:00:00Z", List.of(), List.of(), 10L * n,
                "index/" + RunManifest.runName(n), 0, new IndexSpec(true, "word", 5, 128, 1, 3), null, null, null);
        return new RunManifest.Committed(m, sha);
    }

    private static Manifest tokenized(List<Manifest.PreprocessRun> runs) {
        return new Manifest(1, "tokenizer.json", "t", 1024, 64, Map.of(), null, List.of(), List.of(), runs);
    }

    @Test
    void takesOnlyRunsNotTokenizedYet() {
        List<RunManifest.Committed> runs = List.of(run(1, "a"), run(2, "b"), run(3, "c"));
        assertEquals(runs, Tokenize.newRuns(runs, null, "pre", OUT), "no manifest yet: every run");
        Manifest m = tokenized(List.of(new Manifest.PreprocessRun(1, "a", 10), new Manifest.PreprocessRun(2, "b", 20)));
        assertEquals(List.of(3), Tokenize.newRuns(runs, m, "pre", OUT).stream().map(RunManifest.Committed::run).toList());
        assertEquals(List.of(), Tokenize.newRuns(runs.subList(0, 2), m, "pre", OUT), "nothing new");
    }

    @Test
    void aRewrittenOrVanishedRunIsAnErrorNamingIt() {
        Manifest m = tokenized(List.of(new Manifest.PreprocessRun(1, "a", 10), new Manifest.PreprocessRun(2, "b", 20)));
        IllegalStateException rewritten = assertThrows(IllegalStateException.class,
                () -> Tokenize.newRuns(List.of(run(1, "a"), run(2, "B")), m, "pre", OUT));
        assertTrue(rewritten.getMessage().contains("run=0002") && rewritten.getMessage().contains("rewritten"), rewritten.getMessage());
        IllegalStateException vanished = assertThrows(IllegalStateException.class,
                () -> Tokenize.newRuns(List.of(run(1, "x")), tokenized(List.of(new Manifest.PreprocessRun(1, "x", 1),
                        new Manifest.PreprocessRun(2, "y", 1))), "pre", OUT));
        assertTrue(vanished.getMessage().contains("run=0002") && vanished.getMessage().contains("no longer exists"), vanished.getMessage());
    }

    @Test
    void anOutputTokenizedFromPlainFilesCannotSwitchToRuns() {
        Manifest byFiles = new Manifest(1, "tokenizer.json", "t", 1024, 64, Map.of(), null,
                List.of(new Manifest.InputFile("file:/docs/a.parquet", 1, 1)), List.of());
        assertThrows(IllegalStateException.class, () -> Tokenize.newRuns(List.of(run(1, "a")), byFiles, "pre", OUT));
    }
}
