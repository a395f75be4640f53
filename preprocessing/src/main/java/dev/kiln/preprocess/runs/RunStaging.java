package dev.kiln.preprocess.runs;

import dev.kiln.common.io.AtomicOutput;
import dev.kiln.documents.RunManifest;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * The staging folder of run N of a preprocess output, and how the run becomes visible. A first run (or a reprocess)
 * stages the whole output folder next to it and renames it onto the output; a later run stages its parts inside the
 * output ({@code _tmp-run=NNNN-<uuid>}, which Spark skips) and moves them in with the manifest last ({@link #publish}),
 * so a run is either complete or invisible and earlier runs' documents are never rewritten. Closing it removes what
 * is left of the staging folder (everything, when the run failed).
 */
public final class RunStaging implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(RunStaging.class);
    private static final String SUCCESS = "_SUCCESS";
    private static final String STATS = "stats.json";

    private final FileSystem fs;
    private final Path target;
    private final int run;
    private final boolean incremental;
    private final Path staging;

    private RunStaging(FileSystem fs, Path target, int run, boolean incremental, Path staging) {
        this.fs = fs;
        this.target = target;
        this.run = run;
        this.incremental = incremental;
        this.staging = staging;
    }

    /** The staging of run {@code run} of {@code target}; {@code incremental}: the output already holds committed runs. */
    public static RunStaging open(FileSystem fs, Path target, int run, boolean incremental) {
        Path staging = incremental ? new Path(target, "_tmp-" + RunManifest.runName(run) + "-" + UUID.randomUUID())
                : AtomicOutput.stagingFor(target);
        return new RunStaging(fs, target, run, incremental, staging);
    }

    /** {@code runs/run=NNNN/} in the staging folder: manifest, stats.json, quarantine/, removed-samples/. */
    public Path runDir() {
        return new Path(new Path(staging, RunManifest.RUNS_DIR), RunManifest.runName(run));
    }

    /** {@code documents/run=NNNN/} in the staging folder. */
    public Path documentsDir() {
        return new Path(new Path(staging, RunManifest.DOCUMENTS_DIR), RunManifest.runName(run));
    }

    /** The index snapshot's folder relative to the output ({@code index/run=NNNN}), as the manifest records it. */
    public String indexPath() {
        return RunManifest.INDEX_DIR + "/" + RunManifest.runName(run);
    }

    /** The index snapshot's folder in the staging folder. */
    public Path indexDir() {
        return new Path(staging, indexPath());
    }

    /** The Parquet files of the staged documents folder, relative to the output folder, with their sizes, sorted. */
    public List<RunManifest.FileEntry> documentFiles() throws IOException {
        List<RunManifest.FileEntry> out = new ArrayList<>();
        String prefix = staging.toUri().getPath() + "/";
        for (FileStatus st : fs.listStatus(documentsDir())) {
            String n = st.getPath().getName();
            if (st.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
                out.add(new RunManifest.FileEntry(st.getPath().toUri().getPath().substring(prefix.length()), st.getLen()));
            }
        }
        out.sort(Comparator.comparing(RunManifest.FileEntry::path));
        return out;
    }

    /** Writes the run's stats.json into its staged run folder. */
    public void writeRunStats(byte[] statsJson) throws IOException {
        try (FSDataOutputStream o = fs.create(new Path(runDir(), STATS), false)) {
            o.write(statsJson);
        }
    }

    /** Writes the run's manifest into its staged run folder (it commits the run once moved into the output). */
    public void writeManifest(RunManifest manifest) throws IOException {
        manifest.write(fs, runDir());
    }

    /**
     * Makes the staged run visible: a later run moves its parts into the output ({@link #commitRun}); a first run
     * (or a reprocess) gets stats.json and _SUCCESS in the staged folder, which then replaces the output.
     */
    public void publish(byte[] statsJson) throws IOException {
        if (incremental) {
            commitRun(statsJson);
            return;
        }
        try (FSDataOutputStream o = fs.create(new Path(staging, STATS), false)) {
            o.write(statsJson);
        }
        fs.create(new Path(staging, SUCCESS), false).close();
        AtomicOutput.commit(fs, staging, target);
    }

    /**
     * Moves run N's parts from the staging folder into the output: documents, then the index snapshot, then the run
     * folder with its manifest, which commits the run (readers ignore parts without a committed manifest; a crash
     * before it leaves parts the next attempt of run N replaces). Then stats.json and _SUCCESS, and older index
     * snapshots, which the new one contains, are removed.
     */
    private void commitRun(byte[] statsJson) throws IOException {
        String name = RunManifest.runName(run);
        for (String dir : List.of(RunManifest.DOCUMENTS_DIR, RunManifest.INDEX_DIR, RunManifest.RUNS_DIR)) {
            Path from = new Path(new Path(staging, dir), name);
            Path to = new Path(new Path(target, dir), name);
            if (fs.exists(to)) {
                LOG.info("[preprocess] removing {}, left by an interrupted attempt of {}", to, name);
                fs.delete(to, true);
            }
            fs.mkdirs(to.getParent());
            AtomicOutput.dropChecksums(fs, from);
            if (!fs.rename(from, to)) {
                throw new IOException("cannot rename " + from + " to " + to);
            }
        }
        AtomicOutput.writeBytes(fs, new Path(target, STATS), statsJson);
        AtomicOutput.writeBytes(fs, new Path(target, SUCCESS), new byte[0]);
        for (FileStatus st : fs.listStatus(new Path(target, RunManifest.INDEX_DIR))) {
            int n = RunManifest.parseRun(st.getPath().getName());
            if (n > 0 && n < run) {
                fs.delete(st.getPath(), true);
            }
        }
    }

    /** Removes what is left of the staging folder: nothing after a commit, the partial run after a failure. */
    @Override
    public void close() throws IOException {
        if (fs.exists(staging)) {
            fs.delete(staging, true);
        }
    }
}
