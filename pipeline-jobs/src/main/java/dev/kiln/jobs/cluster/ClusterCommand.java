package dev.kiln.jobs.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code kiln cluster start|status|stop}: a thin command line over {@link StandaloneCluster}.
 * Exit codes: 0 ok, 1 failed or not healthy, 2 bad usage.
 */
public final class ClusterCommand {
    private ClusterCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: cluster start|status|stop [--workers N] [--cores C] [--memory SIZE] [--dir DIR] --spark-home DIR");
            return 2;
        }
        String action = args[0];
        Path dir = Path.of(".kiln/cluster");
        Path sparkHome = null;
        int workers = 2;
        int cores = 1;
        String memory = "2g";
        int timeoutSeconds = 120;
        try {
          for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--dir" -> dir = Path.of(require(a, v));
                case "--spark-home" -> sparkHome = Path.of(require(a, v));
                case "--workers" -> workers = positive(a, require(a, v));
                case "--cores" -> cores = positive(a, require(a, v));
                case "--memory" -> memory = require(a, v);
                case "--timeout" -> timeoutSeconds = positive(a, require(a, v));
                default -> {
                    System.err.println("kiln cluster: unknown option " + a);
                    return 2;
                }
            }
            i++;
          }
        } catch (IllegalArgumentException e) {
            System.err.println("kiln cluster: " + e.getMessage());
            return 2;
        }
        try {
            switch (action) {
                case "start" -> {
                    if (sparkHome == null) {
                        System.err.println("kiln cluster start: --spark-home is required");
                        return 2;
                    }
                    StandaloneCluster.State s = StandaloneCluster.start(dir, sparkHome, workers, cores, memory, Duration.ofSeconds(timeoutSeconds));
                    System.out.println("Started a Spark standalone cluster: master " + s.masterUrl() + " with " + workers
                            + " workers x " + cores + " cores x " + memory);
                    System.out.println(StandaloneCluster.describe(StandaloneCluster.status(dir).orElseThrow()));
                    System.out.println("Submit to it with:  bin/kiln <stage> --master " + s.masterUrl() + " ...   (or export KILN_MASTER=" + s.masterUrl() + ")");
                    return 0;
                }
                case "status" -> {
                    Optional<StandaloneCluster.Status> st = StandaloneCluster.status(dir);
                    if (st.isEmpty()) {
                        System.out.println("No cluster recorded in " + dir + " (start one with: kiln cluster start --workers 2)");
                        return 1;
                    }
                    System.out.println(StandaloneCluster.describe(st.get()));
                    return st.get().healthy() ? 0 : 1;
                }
                case "stop" -> {
                    int n = StandaloneCluster.stop(dir, Duration.ofSeconds(15));
                    System.out.println(n == 0 ? "No running cluster processes recorded in " + dir : "Stopped " + n + " cluster processes recorded in " + dir);
                    return 0;
                }
                default -> {
                    System.err.println("kiln cluster: unknown action '" + action + "' (start|status|stop)");
                    return 2;
                }
            }
        } catch (Exception e) {
            System.err.println("kiln cluster " + action + " failed: " + e.getMessage());
            return 1;
        }
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " expects a positive integer, got " + value);
        }
    }
}
