package dev.kiln.preprocess.runs;

import dev.kiln.documents.RunManifest;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputFormat;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InputLedgerTest {
    private static final List<RunManifest.InputEntry> PROCESSED = List.of(
            new RunManifest.InputEntry("file:/in/a.json", 100, 1000, "aaa"),
            new RunManifest.InputEntry("file:/in/b.json", 200, 2000, "bbb"));

    private static InputFile listed(String name, long size, long mtime) {
        return new InputFile("file:/in/" + name, size, mtime, InputFormat.JSONL);
    }

    @Test
    void onlyUnprocessedFilesAreFresh() {
        InputLedger.Plan plan = InputLedger.plan(PROCESSED, List.of(listed("a.json", 100, 1000), listed("b.json", 200, 2000),
                listed("c.json", 300, 3000)));
        assertEquals(List.of(listed("c.json", 300, 3000)), plan.fresh());
        assertEquals(List.of(), plan.suspect());
        assertEquals(List.of(listed("x", 1, 1)), InputLedger.plan(List.of(), List.of(listed("x", 1, 1))).fresh(), "no earlier run: all fresh");
    }

    @Test
    void nothingNewIsAnEmptyPlan() {
        InputLedger.Plan plan = InputLedger.plan(PROCESSED, List.of(listed("a.json", 100, 1000), listed("b.json", 200, 2000)));
        assertTrue(plan.fresh().isEmpty() && plan.suspect().isEmpty());
    }

    @Test
    void aResizedFileIsAnErrorNamingItAndTheChoice() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> InputLedger.plan(PROCESSED, List.of(listed("a.json", 101, 1000), listed("b.json", 200, 2000))));
        assertTrue(e.getMessage().contains("file:/in/a.json") && e.getMessage().contains("100 -> 101"), e.getMessage());
        assertTrue(e.getMessage().contains("--reprocess") && e.getMessage().contains("kiln.preprocess.reprocess = true"), e.getMessage());
    }

    @Test
    void aVanishedFileIsAnErrorNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> InputLedger.plan(PROCESSED, List.of(listed("a.json", 100, 1000), listed("c.json", 1, 1))));
        assertTrue(e.getMessage().contains("file:/in/b.json") && e.getMessage().contains("no longer listed"), e.getMessage());
        assertTrue(e.getMessage().contains("--reprocess"), e.getMessage());
    }

    @Test
    void aTouchedFileIsCheckedByItsContentHash() {
        InputLedger.Plan plan = InputLedger.plan(PROCESSED, List.of(listed("a.json", 100, 1500), listed("b.json", 200, 2000)));
        assertEquals(List.of(listed("a.json", 100, 1500)), plan.suspect());
        assertTrue(plan.fresh().isEmpty());
        InputLedger.checkUnchanged(PROCESSED, Map.of("file:/in/a.json", "aaa")); // same bytes: fine
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> InputLedger.checkUnchanged(PROCESSED, Map.of("file:/in/a.json", "zzz")));
        assertTrue(e.getMessage().contains("file:/in/a.json") && e.getMessage().contains("aaa -> zzz"), e.getMessage());
    }

    @Test
    void aFileRecordedByTwoRunsMeansDamagedManifests() {
        List<RunManifest.InputEntry> twice = List.of(PROCESSED.get(0), PROCESSED.get(0));
        assertThrows(IllegalStateException.class, () -> InputLedger.plan(twice, List.of()));
    }
}
