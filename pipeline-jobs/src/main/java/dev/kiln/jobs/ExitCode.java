package dev.kiln.jobs;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.BadInputException;
import dev.kiln.common.io.DroppedInputException;
import dev.kiln.common.io.MissingInputException;
import dev.kiln.common.io.OutputLock;
import org.apache.spark.SparkException;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The exit statuses of every Kiln job, chosen so a scheduler can act on them (README, "Exit codes"; bin/kiln --help
 * prints the same table). {@link #of(Throwable)} is the one place where failures become codes.
 */
public enum ExitCode {
    OK(0, "done, or nothing new to do (nothing written)"),
    FAILED(1, "failed; a retry will not help (e.g. the output holds an incompatible run): read the message"),
    BAD_CONFIG(2, "bad arguments or configuration (the message names the key)"),
    NOT_BUILT(3, "the stage is not in this build of kiln.jar"),
    MISSING_INPUT(4, "the input is missing (glob matches nothing, no manifest): wait for the upstream stage"),
    BAD_INPUT(5, "too much of the input is unusable (over a configured threshold): look at the data"),
    LOCK_HELD(6, "another run holds the output's lock: skip this slot (or clear a stale lock)"),
    RETRY(7, "I/O or Spark failure (lost executor, file system error): worth a retry"),
    FILTERED_OUT(8, "cleaning and filters removed every document read, or over a configured fraction: read the drop reasons");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /**
     * The code for a failure: the most specific cause in its chain (lock held, missing input, bad input, bad
     * configuration) wins; otherwise an I/O or Spark failure anywhere in the chain is {@link #RETRY}; anything else
     * (an {@link IllegalStateException} about an incompatible output, a bug) is {@link #FAILED}.
     */
    public static ExitCode of(Throwable failure) {
        boolean transientFailure = false;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutputLock.HeldException) {
                return LOCK_HELD;
            }
            if (t instanceof MissingInputException) {
                return MISSING_INPUT;
            }
            if (t instanceof BadInputException) {
                return BAD_INPUT;
            }
            if (t instanceof DroppedInputException) {
                return FILTERED_OUT;
            }
            if (t instanceof InvalidConfigException) {
                return BAD_CONFIG;
            }
            if (t instanceof IOException || t instanceof UncheckedIOException || t instanceof SparkException) {
                transientFailure = true;
            }
        }
        return transientFailure ? RETRY : FAILED;
    }

    /** The table for --help and the README. */
    public static String table() {
        StringBuilder sb = new StringBuilder();
        for (ExitCode c : values()) {
            sb.append(String.format("  %d  %-14s %s%n", c.code, c.name().toLowerCase().replace('_', '-'), c.meaning));
        }
        return sb.toString();
    }
}
