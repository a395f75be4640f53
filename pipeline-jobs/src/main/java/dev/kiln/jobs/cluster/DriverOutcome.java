package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.jobs.ExitCode;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real outcome of a standalone cluster-mode submission. spark-submit exits 0 there even when the driver FAILED,
 * so the final driver state is read from spark-submit's own output (with
 * {@code spark.standalone.submit.waitAppCompletion=true} it polls until the driver ends and logs
 * "State of driver driver-... is FAILED, exiting spark-submit JVM.") or from the master's JSON
 * ({@code activedrivers} / {@code completeddrivers}), and mapped to Kiln's exit codes.
 */
public final class DriverOutcome {
    private static final Pattern STATE = Pattern.compile("State of (?:driver )?(driver-\\S+?),? is ([A-Z]+)");
    private static final Pattern SUBMITTED = Pattern.compile("Driver successfully submitted as (driver-\\S+)");

    private DriverOutcome() {
    }

    /** The driver id and its last state that spark-submit reported. */
    public record Report(String driverId, String state) {
    }

    /** The last "State of driver X is S" line in spark-submit's output, if any. */
    public static Optional<Report> lastState(String submitOutput) {
        Matcher m = STATE.matcher(submitOutput);
        Report last = null;
        while (m.find()) {
            last = new Report(m.group(1), m.group(2));
        }
        return Optional.ofNullable(last);
    }

    /** The driver id spark-submit was given ("Driver successfully submitted as driver-..."), if any. */
    public static Optional<String> submittedId(String submitOutput) {
        Matcher m = SUBMITTED.matcher(submitOutput);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** A driver's state in the master's JSON, from activedrivers or completeddrivers. */
    public static Optional<String> stateAtMaster(JsonNode master, String driverId) {
        for (String list : new String[]{"completeddrivers", "activedrivers"}) {
            for (JsonNode d : master.path(list)) {
                if (d.path("id").asText().equals(driverId)) {
                    return Optional.of(d.path("state").asText());
                }
            }
        }
        return Optional.empty();
    }

    /**
     * FINISHED: 0. FAILED (the driver exited non-zero: the job's own code is in the output's status.json) and ERROR
     * (it could not be launched, e.g. the jar is missing on the worker): 1. KILLED, or no final state at all (the
     * submission lost the master): worth a retry, 7. A state that is not final (SUBMITTED, RUNNING, RELAUNCHING,
     * UNKNOWN) means spark-submit stopped watching: 7.
     */
    public static ExitCode exitCode(Optional<String> finalState) {
        if (finalState.isEmpty()) {
            return ExitCode.RETRY;
        }
        return switch (finalState.get()) {
            case "FINISHED" -> ExitCode.OK;
            case "FAILED", "ERROR" -> ExitCode.FAILED;
            default -> ExitCode.RETRY;
        };
    }
}
