package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Can a standalone master place a cluster-mode driver at all? The master launches a driver only on one ALIVE worker
 * with at least the driver's memory and cores in total; when none has them it only logs "Driver requires more
 * resource than any of Workers could have" and the driver waits forever (and spark-submit with it). Checked up
 * front over the master's JSON ({@code http://host:webui-port/json}: {@code workers[].memory} in MiB,
 * {@code workers[].cores}, {@code workers[].state}).
 */
public final class DriverPlacement {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgtp]?)b?", Pattern.CASE_INSENSITIVE);

    private DriverPlacement() {
    }

    /** Null when some ALIVE worker has the memory and cores; otherwise why not, naming every worker. */
    public static String whyNot(JsonNode master, long driverMemoryMb, int driverCores) {
        List<String> seen = new ArrayList<>();
        for (JsonNode w : master.path("workers")) {
            String state = w.path("state").asText();
            long memory = w.path("memory").asLong();
            int cores = w.path("cores").asInt();
            if (state.equals("ALIVE") && memory >= driverMemoryMb && cores >= driverCores) {
                return null;
            }
            seen.add(String.format(Locale.ROOT, "%s %s %d MiB %d cores", w.path("id").asText("?"), state, memory, cores));
        }
        return String.format(Locale.ROOT, "no worker of %s can run a driver of %d MiB and %d core(s) (workers: %s); lower "
                        + "--driver-memory / --driver-cores, or start workers with more (kiln cluster start --memory SIZE --cores N)",
                master.path("url").asText("the master"), driverMemoryMb, driverCores, seen.isEmpty() ? "none" : String.join(", ", seen));
    }

    /** A Spark memory size ("4g", "512m", "2048" = MiB as for spark.driver.memory) in MiB. */
    public static long memoryMb(String size) {
        Matcher m = SIZE.matcher(size.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("expected a memory size such as 4g or 512m, got \"" + size + "\"");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> Math.max(1, n / 1024);
            case "g" -> n << 10;
            case "t" -> n << 20;
            case "p" -> n << 30;
            default -> n;
        };
    }
}
