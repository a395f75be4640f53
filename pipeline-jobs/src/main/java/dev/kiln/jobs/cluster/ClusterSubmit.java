package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.jobs.ExitCode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * bin/kiln's helper around a standalone cluster-mode spark-submit:
 * <pre>
 *   fits    --master spark://H:P [--master-ui URL] [--cluster-dir DIR] --driver-memory SIZE --driver-cores N
 *           exit 0 when some worker can hold the driver, else 2 with the reason (before anything is submitted)
 *   outcome --log FILE [--master spark://H:P] [--master-ui URL] [--cluster-dir DIR]
 *           reads the final driver state from spark-submit's output (else asks the master), prints it and exits
 *           with the matching Kiln exit code
 * </pre>
 * The master's web UI is {@code --master-ui}, else the one {@code kiln cluster start} recorded for that master in
 * DIR/cluster.json, else {@code http://HOST:8080} (Spark's default web UI port).
 */
public final class ClusterSubmit {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterSubmit() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: ClusterSubmit fits|outcome [options]");
            return ExitCode.BAD_CONFIG.code();
        }
        String master = null;
        String masterUi = null;
        String clusterDir = null;
        String driverMemory = null;
        int driverCores = 1;
        String log = null;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--master" -> master = args[i + 1];
                case "--master-ui" -> masterUi = args[i + 1].isBlank() ? null : args[i + 1];
                case "--cluster-dir" -> clusterDir = args[i + 1];
                case "--driver-memory" -> driverMemory = args[i + 1];
                case "--driver-cores" -> driverCores = Integer.parseInt(args[i + 1]);
                case "--log" -> log = args[i + 1];
                default -> {
                    System.err.println("kiln: unknown option " + args[i]);
                    return ExitCode.BAD_CONFIG.code();
                }
            }
        }
        String ui = masterUi(master, masterUi, clusterDir);
        try {
            return switch (args[0]) {
                case "fits" -> fits(ui, driverMemory, driverCores);
                case "outcome" -> outcome(ui, Files.readString(Path.of(log)));
                default -> {
                    System.err.println("kiln: unknown action " + args[0]);
                    yield ExitCode.BAD_CONFIG.code();
                }
            };
        } catch (IllegalArgumentException e) {
            System.err.println("kiln: " + e.getMessage());
            return ExitCode.BAD_CONFIG.code();
        } catch (IOException e) {
            System.err.println("kiln: " + e.getMessage());
            return ExitCode.RETRY.code();
        }
    }

    private static int fits(String ui, String driverMemory, int driverCores) {
        Optional<JsonNode> json = masterJson(ui);
        if (json.isEmpty()) {
            System.err.println("kiln: cannot read the master's state at " + ui + "/json (pass --master-ui URL); "
                    + "not checking whether the driver fits a worker");
            return ExitCode.OK.code();
        }
        String why = DriverPlacement.whyNot(json.get(), DriverPlacement.memoryMb(driverMemory), driverCores);
        if (why != null) {
            System.err.println("kiln: --deploy-mode cluster: " + why);
            return ExitCode.BAD_CONFIG.code();
        }
        return ExitCode.OK.code();
    }

    private static int outcome(String ui, String submitOutput) {
        Optional<DriverOutcome.Report> reported = DriverOutcome.lastState(submitOutput);
        Optional<String> id = reported.map(DriverOutcome.Report::driverId).or(() -> DriverOutcome.submittedId(submitOutput));
        Optional<String> state = reported.map(DriverOutcome.Report::state);
        if (id.isPresent() && (state.isEmpty() || !isFinal(state.get()))) {
            state = masterJson(ui).flatMap(j -> DriverOutcome.stateAtMaster(j, id.get())).or(() -> reported.map(DriverOutcome.Report::state));
        }
        ExitCode code = DriverOutcome.exitCode(state.filter(ClusterSubmit::isFinal));
        System.err.println("kiln: driver " + id.orElse("(no driver id in spark-submit's output)") + " ended "
                + state.orElse("in an unknown state") + ": exit " + code.code() + " (" + code.name().toLowerCase() + ")"
                + (code == ExitCode.FAILED ? "; the job's own exit code is in its output's status.json" : ""));
        return code.code();
    }

    private static boolean isFinal(String state) {
        return switch (state) {
            case "FINISHED", "FAILED", "ERROR", "KILLED" -> true;
            default -> false;
        };
    }

    /** --master-ui, else the UI kiln cluster start recorded for this master, else http://HOST:8080. */
    static String masterUi(String master, String masterUi, String clusterDir) {
        if (masterUi != null) {
            return stripSlash(masterUi);
        }
        if (clusterDir != null) {
            try {
                Optional<StandaloneCluster.State> s = StandaloneCluster.read(Path.of(clusterDir));
                if (s.isPresent() && s.get().masterUrl().equals(master)) {
                    return stripSlash(s.get().masterUi());
                }
            } catch (IOException e) {
                // fall through to the default port
            }
        }
        if (master == null || !master.startsWith("spark://")) {
            throw new IllegalArgumentException("expected a spark://HOST:PORT master, got " + master);
        }
        String hostPort = master.substring("spark://".length()).split(",")[0];
        String host = hostPort.contains(":") ? hostPort.substring(0, hostPort.lastIndexOf(':')) : hostPort;
        return "http://" + host + ":8080";
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    private static Optional<JsonNode> masterJson(String ui) {
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(ui + "/json/"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
