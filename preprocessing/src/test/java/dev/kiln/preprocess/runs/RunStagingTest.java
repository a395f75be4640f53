package dev.kiln.preprocess.runs;

import dev.kiln.common.io.AtomicOutput;
import dev.kiln.documents.IndexSpec;
import dev.kiln.documents.RunManifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a staged run becomes visible on a real (local) Hadoop file system: the first run, a later run, a failed one. */
class RunStagingTest {
    @TempDir
    java.nio.file.Path tmp;

    private final FileSystem fs = localFs();

    private static FileSystem localFs() {
        try {
            return FileSystem.getLocal(new Configuration());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stages run {@code run}: one documents file (plus a marker the manifest must not list), an index file, the manifest. */
    private void stage(RunStaging staging, int run, String documents) throws IOException {
        AtomicOutput.writeString(fs, new Path(staging.documentsDir(), "part-00000.parquet"), documents);
        AtomicOutput.writeString(fs, new Path(staging.documentsDir(), "_SUCCESS"), "");
        AtomicOutput.writeString(fs, new Path(staging.indexDir(), "part-00000.parquet"), "index of run " + run);
        staging.writeRunStats(("{\"run\": " + run + "}").getBytes(StandardCharsets.UTF_8));
        staging.writeManifest(new RunManifest(RunManifest.FORMAT_VERSION, run, "2026-01-01T00:00:00Z", List.of(), staging.documentFiles(),
                1, staging.indexPath(), run, new IndexSpec(true, "word", 5, 128, 1, 5), null, null, null));
    }

    private List<String> names(java.nio.file.Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    @Test
    void aFirstRunReplacesTheOutputAndALaterRunMovesItsPartsInManifestLast() throws IOException {
        Path out = new Path(tmp.resolve("out").toUri());
        try (RunStaging first = RunStaging.open(fs, out, 1, false)) {
            stage(first, 1, "docs 1");
            assertEquals(List.of(new RunManifest.FileEntry("documents/run=0001/part-00000.parquet", 6)), first.documentFiles(),
                    "relative to the output, markers left out");
            first.publish("{\"latest\": 1}".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(List.of("out"), names(tmp), "the first run's staging folder was renamed onto the output");
        assertEquals(List.of("_SUCCESS", "documents", "index", "runs", "stats.json"), names(tmp.resolve("out")));

        // A crash of an earlier attempt at run 2 left its documents; the new attempt replaces them.
        AtomicOutput.writeString(fs, new Path(out, "documents/run=0002/part-stale.parquet"), "stale");
        try (RunStaging second = RunStaging.open(fs, out, 2, true)) {
            stage(second, 2, "docs 2");
            assertTrue(names(tmp.resolve("out")).stream().anyMatch(n -> n.startsWith("_tmp-run=0002-")), "staged inside the output");
            second.publish("{\"latest\": 2}".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals(List.of("_SUCCESS", "documents", "index", "runs", "stats.json"), names(tmp.resolve("out")), "no staging left");
        assertEquals(List.of("_SUCCESS", "part-00000.parquet"), names(tmp.resolve("out/documents/run=0002")), "the stale part is gone");
        assertEquals(List.of("run=0002"), names(tmp.resolve("out/index")), "only the newest index snapshot is kept");
        assertEquals(List.of("run=0001", "run=0002"), names(tmp.resolve("out/documents")));
        assertEquals("{\"latest\": 2}", Files.readString(tmp.resolve("out/stats.json")));
        assertEquals(List.of(1, 2), RunManifest.readAll(fs, out).stream().map(RunManifest.Committed::run).toList());
    }

    @Test
    void aRunThatFailsBeforePublishingLeavesNothing() throws IOException {
        Path out = new Path(tmp.resolve("out").toUri());
        try (RunStaging first = RunStaging.open(fs, out, 1, false)) {
            stage(first, 1, "docs 1");
            first.publish("{}".getBytes(StandardCharsets.UTF_8));
        }
        List<String> before = names(tmp.resolve("out"));
        try (RunStaging failed = RunStaging.open(fs, out, 2, true)) {
            stage(failed, 2, "docs 2");
        }
        assertEquals(before, names(tmp.resolve("out")), "the staged parts of the failed run are removed");
        assertFalse(Files.exists(tmp.resolve("out/documents/run=0002")));
        assertEquals(1, RunManifest.readAll(fs, out).size());

        try (RunStaging failedFirst = RunStaging.open(fs, new Path(tmp.resolve("other").toUri()), 1, false)) {
            stage(failedFirst, 1, "docs");
        }
        assertEquals(List.of("out"), Arrays.stream(tmp.toFile().list()).filter(n -> !n.startsWith(".")).sorted().toList(),
                "a failed first run leaves no staging folder next to the output");
    }
}
