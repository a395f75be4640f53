package dev.kiln.preprocess.runs;

import dev.kiln.documents.RunManifest;
import dev.kiln.preprocess.read.InputFile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which listed input files an incremental preprocess run reads: the ones no earlier run processed. An already processed
 * file must still be there unchanged, since its documents are published and cannot be retracted: a vanished file, a
 * file of another size, or one whose modification time moved and whose content hash differs is an error naming it.
 * (A file that was only touched, same bytes, is fine.) Pure logic; the caller hashes the files in Spark tasks.
 */
public final class InputLedger {
    /** How to start over instead; both name the same choice. */
    static final String CHOICE = "its documents are already published in earlier runs and are never re-read silently; "
            + "to process everything again into a new output, run with --reprocess (or kiln.preprocess.reprocess = true), "
            + "or write to a new kiln.preprocess.output.path";

    private InputLedger() {
    }

    /**
     * @param fresh   listed files no earlier run processed (listing order)
     * @param suspect processed files whose size matches but whose modification time moved: hash them and pass the
     *                hashes to {@link #checkUnchanged}
     */
    public record Plan(List<InputFile> fresh, List<InputFile> suspect) {
        public Plan {
            fresh = List.copyOf(fresh);
            suspect = List.copyOf(suspect);
        }
    }

    /** Compares the listing with every earlier run's inputs; throws on a vanished or resized processed file. */
    public static Plan plan(List<RunManifest.InputEntry> processed, List<InputFile> listed) {
        Map<String, RunManifest.InputEntry> known = byPath(processed);
        Set<String> seen = new TreeSet<>();
        List<InputFile> fresh = new ArrayList<>();
        List<InputFile> suspect = new ArrayList<>();
        for (InputFile f : listed) {
            seen.add(f.path());
            RunManifest.InputEntry e = known.get(f.path());
            if (e == null) {
                fresh.add(f);
            } else if (e.size() != f.length()) {
                throw new IllegalStateException("input " + f.path() + " changed since an earlier run processed it (size "
                        + e.size() + " -> " + f.length() + " bytes); " + CHOICE);
            } else if (e.modificationTime() != f.modificationTime()) {
                suspect.add(f);
            }
        }
        for (String path : known.keySet()) {
            if (!seen.contains(path)) {
                throw new IllegalStateException("input " + path + " was processed by an earlier run but is no longer listed under "
                        + "kiln.preprocess.input.paths (deleted, moved, or the paths changed); " + CHOICE);
            }
        }
        return new Plan(fresh, suspect);
    }

    /** Throws naming the first suspect whose content hash differs from the one recorded when it was processed. */
    public static void checkUnchanged(List<RunManifest.InputEntry> processed, Map<String, String> suspectSha256) {
        Map<String, RunManifest.InputEntry> known = byPath(processed);
        for (Map.Entry<String, String> s : new TreeMap<>(suspectSha256).entrySet()) {
            RunManifest.InputEntry e = known.get(s.getKey());
            if (e != null && !e.sha256().equals(s.getValue())) {
                throw new IllegalStateException("input " + s.getKey() + " changed since an earlier run processed it (same size, "
                        + "new modification time, SHA-256 " + e.sha256() + " -> " + s.getValue() + "); " + CHOICE);
            }
        }
    }

    private static Map<String, RunManifest.InputEntry> byPath(List<RunManifest.InputEntry> processed) {
        Map<String, RunManifest.InputEntry> known = new LinkedHashMap<>();
        for (RunManifest.InputEntry e : processed) {
            RunManifest.InputEntry before = known.putIfAbsent(e.path(), e);
            if (before != null) {
                throw new IllegalStateException("input " + e.path() + " is recorded by two runs; the run manifests are damaged");
            }
        }
        return known;
    }
}
