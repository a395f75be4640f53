package dev.kiln.jobs;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/** Runs a job in this JVM as its {@code main} would, with its standard output and error captured. */
final class JobRuns {
    private JobRuns() {
    }

    /** A finished run: the exit status and what the job printed. */
    record Run(int status, String err, String out) {
        String both() {
            return err + "\n" + out;
        }
    }

    /** {@code job}: returns the exit status, e.g. {@code () -> FinetuneJob.run(args)}. */
    static Run capture(IntSupplier job) {
        PrintStream err = System.err;
        PrintStream out = System.out;
        ByteArrayOutputStream errBuf = new ByteArrayOutputStream();
        ByteArrayOutputStream outBuf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(errBuf, true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(outBuf, true, StandardCharsets.UTF_8));
        try {
            int status = job.getAsInt();
            return new Run(status, errBuf.toString(StandardCharsets.UTF_8), outBuf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(err);
            System.setOut(out);
        }
    }

    static <C> Run run(JobRunner.Stage<C> stage, String... args) {
        return capture(() -> JobRunner.run(stage, args));
    }
}
