package dev.kiln.preprocess.runs;

import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.RunStatus;
import dev.kiln.common.log.Progress;
import dev.kiln.documents.RunManifest;
import dev.kiln.preprocess.read.InputConfig;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputListing;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What a preprocess run would do, from the driver alone (listings and run manifests; no Spark, nothing written): the
 * output's committed runs, the listed inputs and which of them are new. {@code --dry-run} prints it.
 */
public record RunPlan(Path output, List<RunManifest.Committed> earlier, List<InputFile> listed, InputLedger.Plan inputs) {
    private static final Logger LOG = LoggerFactory.getLogger(RunPlan.class);

    /**
     * Plans a run into {@code outputPath} over {@code input}; {@code reprocess}: start the output over (a new run 1)
     * instead of adding to its committed runs.
     */
    public static RunPlan of(String outputPath, boolean reprocess, InputConfig input, Configuration hconf) throws IOException {
        FileSystem fs = AtomicOutput.fs(outputPath, hconf);
        Path target = fs.makeQualified(new Path(outputPath));
        List<RunManifest.Committed> earlier = earlierRuns(fs, target, reprocess);
        List<InputFile> listed = InputListing.list(input.paths(), input.format(), hconf);
        return new RunPlan(target, earlier, listed, InputLedger.plan(inputsRead(earlier), listed));
    }

    public int nextRun() {
        return earlier.size() + 1;
    }

    /** The newest committed run's manifest; empty for a first run (or a reprocess). */
    public Optional<RunManifest> last() {
        return earlier.isEmpty() ? Optional.empty() : Optional.of(earlier.get(earlier.size() - 1).manifest());
    }

    /** Every input file the committed runs read, as their manifests recorded it. */
    public List<RunManifest.InputEntry> processedBefore() {
        return inputsRead(earlier);
    }

    private static List<RunManifest.InputEntry> inputsRead(List<RunManifest.Committed> runs) {
        return runs.stream().flatMap(c -> c.manifest().inputs().stream()).toList();
    }

    /** A human-readable report: the run it would write and every new input file with its size. */
    public String describe(boolean reprocess) {
        StringBuilder sb = new StringBuilder();
        sb.append("  output: ").append(output).append(reprocess ? " (reprocess: replaced by a new run 1)" : "").append('\n');
        sb.append("  committed runs: ").append(earlier.size()).append('\n');
        sb.append("  input files listed: ").append(listed.size()).append(", already processed: ")
                .append(listed.size() - inputs.fresh().size()).append('\n');
        if (!inputs.suspect().isEmpty()) {
            sb.append("  processed files with a new modification time (re-hashed; a changed one is an error): ")
                    .append(inputs.suspect().size()).append('\n');
        }
        if (inputs.fresh().isEmpty()) {
            sb.append("  nothing new: a run would write nothing and exit 0\n");
            return sb.toString();
        }
        long bytes = inputs.fresh().stream().mapToLong(InputFile::length).sum();
        sb.append("  would write run ").append(RunManifest.runName(nextRun())).append(" from ").append(inputs.fresh().size())
                .append(" new file(s), ").append(Progress.human(bytes)).append(":\n");
        for (InputFile f : inputs.fresh()) {
            sb.append("    ").append(f.path()).append("  ").append(Progress.human(f.length())).append('\n');
        }
        return sb.toString();
    }

    /**
     * The committed runs of the output, or none when it is to be started over (reprocess) or does not exist yet. An
     * existing, non-empty output without committed runs is not a preprocess output this Kiln can add to.
     */
    private static List<RunManifest.Committed> earlierRuns(FileSystem fs, Path target, boolean reprocess) throws IOException {
        if (reprocess || !fs.exists(target)) {
            if (reprocess && fs.exists(target)) {
                LOG.info("[preprocess] kiln.preprocess.reprocess = true: {} will be replaced by a new run 1", target);
            }
            return List.of();
        }
        List<RunManifest.Committed> runs = RunManifest.readAll(fs, target);
        if (runs.isEmpty() && Arrays.stream(fs.listStatus(target)).map(st -> st.getPath().getName())
                .anyMatch(n -> !n.startsWith("_") && !n.startsWith(".") && !n.equals(RunStatus.FILE_NAME))) {
            throw new IllegalStateException("kiln.preprocess.output.path " + target + " exists but holds no committed preprocess run "
                    + "(no " + RunManifest.RUNS_DIR + "/run=NNNN/" + RunManifest.FILE_NAME + "; an older Kiln layout or another folder); "
                    + "use a new output path, or --reprocess (kiln.preprocess.reprocess = true) to replace it");
        }
        return runs;
    }
}
