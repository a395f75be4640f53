package dev.kiln.documents;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.common.io.FileHashes;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * {@code runs/run=NNNN/manifest.json}: one committed preprocess run. It is written last, after the run's documents
 * and index are in place, so a run exists exactly when its manifest does; it is never rewritten afterwards.
 * Downstream stages identify a run by its number and the SHA-256 of this file. With the folder layout named here
 * ({@code documents/}, {@code index/}, {@code runs/}) it is the contract between {@code kiln preprocess}, which writes
 * it, and {@code kiln tokenize}, which reads the runs it has not tokenized yet.
 *
 * @param formatVersion  {@link #FORMAT_VERSION}
 * @param run            1, 2, 3, ... (run N adds to what runs 1 .. N-1 published)
 * @param created        when the run was committed (ISO-8601, UTC)
 * @param inputs         the raw input files this run read (every earlier run's inputs are in their own manifests)
 * @param documentFiles  the run's Parquet files, relative to the output folder, with their sizes
 * @param documents      documents written by this run
 * @param index          the dedup index snapshot written with this run (everything kept by runs 1 .. N), relative
 * @param indexDocuments documents in that snapshot
 * @param indexSpec      how the snapshot's signatures were made; a later run must make them the same way
 * @param config         the effective {@code kiln.preprocess} section of this run (null in older manifests)
 * @param lineage        the run's {@link dev.kiln.common.config.Lineage#toJson()}, the same object as in its stats.json;
 *                       null in manifests written before run manifests recorded it
 * @param languages      documents the filters kept per language (language identification's codes), before dedup; empty
 *                       when language identification was off and in manifests written before it existed
 */
public record RunManifest(int formatVersion, int run, String created, List<InputEntry> inputs, List<FileEntry> documentFiles,
                          long documents, String index, long indexDocuments, IndexSpec indexSpec, JsonNode config,
                          JsonNode lineage, SortedMap<String, Long> languages) {
    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";
    public static final String RUNS_DIR = "runs";
    public static final String DOCUMENTS_DIR = "documents";
    public static final String INDEX_DIR = "index";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** An input file as the run read it: its path (URI), size and modification time as listed, and its SHA-256. */
    public record InputEntry(String path, long size, long modificationTime, String sha256) {
    }

    /** A file of the run, relative to the output folder. */
    public record FileEntry(String path, long size) {
    }

    /** A run as found on disk: its manifest and the SHA-256 of the manifest file's bytes. */
    public record Committed(RunManifest manifest, String sha256) {
        public int run() {
            return manifest.run();
        }
    }

    public RunManifest {
        inputs = List.copyOf(inputs);
        documentFiles = List.copyOf(documentFiles);
        lineage = lineage == null || lineage.isNull() || lineage.isMissingNode() ? null : lineage; // absent in older manifests
        languages = Collections.unmodifiableSortedMap(languages == null ? new TreeMap<>() : new TreeMap<>(languages));
    }

    /** The partition folder name of a run: {@code run=0001} (Spark reads {@code documents/} as a table partitioned by run). */
    public static String runName(int run) {
        if (run < 1 || run > 9999) {
            throw new IllegalArgumentException("run number " + run + " is outside 1 .. 9999");
        }
        return String.format(Locale.ROOT, "run=%04d", run);
    }

    /** The run number of a folder named {@code run=NNNN}, or -1 for any other name. */
    public static int parseRun(String name) {
        if (name.length() != 8 || !name.startsWith("run=")) {
            return -1;
        }
        for (int i = 4; i < 8; i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return -1;
            }
        }
        int n = Integer.parseInt(name.substring(4));
        return n >= 1 ? n : -1;
    }

    /** Every committed run is numbered 1 .. N without a gap; a gap means someone deleted a run's manifest. */
    static void checkContiguous(List<Integer> runs, Path where) {
        for (int i = 0; i < runs.size(); i++) {
            if (runs.get(i) != i + 1) {
                throw new IllegalStateException(where + " has committed runs " + runs + ": " + runName(i + 1)
                        + " is missing, so the output is damaged; start a new output (--reprocess)");
            }
        }
    }

    public byte[] toJsonBytes() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot render the run manifest as JSON", e);
        }
    }

    public static RunManifest fromJson(byte[] json, String where) {
        RunManifest m;
        try {
            m = JSON.readValue(json, RunManifest.class);
        } catch (IOException e) {
            throw new IllegalStateException(where + " is not a valid Kiln run manifest: " + e.getMessage(), e);
        }
        if (m.formatVersion() != FORMAT_VERSION) {
            throw new IllegalStateException(where + ": run manifest format " + m.formatVersion() + ", this Kiln reads " + FORMAT_VERSION);
        }
        return m;
    }

    /** {@code out/runs/run=NNNN}. */
    public static Path runDir(Path out, int run) {
        return new Path(new Path(out, RUNS_DIR), runName(run));
    }

    /** Writes {@code dir/manifest.json} (into a staging folder: the folder's rename commits it). */
    public void write(FileSystem fs, Path dir) throws IOException {
        try (FSDataOutputStream out = fs.create(new Path(dir, FILE_NAME), false)) {
            out.write(toJsonBytes());
        }
    }

    /** The committed runs of a preprocess output folder, in run order (empty when it has none). */
    public static List<Committed> readAll(FileSystem fs, Path out) throws IOException {
        Path runs = new Path(out, RUNS_DIR);
        List<Committed> found = new ArrayList<>();
        if (!fs.isDirectory(runs)) {
            return found;
        }
        for (FileStatus st : fs.listStatus(runs)) {
            int n = parseRun(st.getPath().getName());
            Path file = new Path(st.getPath(), FILE_NAME);
            if (n < 0 || !st.isDirectory() || !fs.exists(file)) {
                continue; // staging names start with '_'; a folder without a manifest was never committed
            }
            byte[] bytes;
            try (FSDataInputStream in = fs.open(file)) {
                bytes = in.readAllBytes();
            }
            RunManifest m = fromJson(bytes, file.toString());
            if (m.run() != n) {
                throw new IllegalStateException(file + " says run " + m.run() + " but lies in " + runName(n));
            }
            found.add(new Committed(m, FileHashes.sha256(bytes)));
        }
        found.sort(Comparator.comparingInt(Committed::run));
        checkContiguous(found.stream().map(Committed::run).toList(), out);
        return found;
    }
}
