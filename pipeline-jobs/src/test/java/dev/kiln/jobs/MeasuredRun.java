package dev.kiln.jobs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/kiln} run as {@link KilnCliAccess#run} does, while the peak resident memory of its JVMs is sampled every
 * second from {@code /proc/PID/status}'s {@code VmHWM} (the kernel's high-water mark of the process, so a peak
 * between two samples is not missed, only one in a process's last second): the launched process and its descendants
 * (the driver), and every other process whose command line contains {@code marker} (a standalone cluster's
 * executors, which the cluster's workers start).
 */
public record MeasuredRun(int exitCode, String output, long launchedPeak, Map<Long, Long> matchingPeaks) {

    public static MeasuredRun of(Map<String, String> env, int timeoutSeconds, String marker, String... args)
            throws IOException, InterruptedException {
        ProcessBuilder pb = KilnCliAccess.command(env, args);
        Path log = Files.createTempFile("kiln-cli-", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        Map<Long, Long> launched = new HashMap<>();
        Map<Long, Long> matching = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!p.waitFor(1, TimeUnit.SECONDS)) {
            sample(p.toHandle(), launched);
            p.descendants().forEach(d -> sample(d, launched));
            if (marker != null) {
                ProcessHandle.allProcesses().filter(h -> h.info().commandLine().map(c -> c.contains(marker)).orElse(false))
                        .forEach(h -> sample(h, matching));
            }
            if (System.nanoTime() > deadline) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("bin/kiln " + String.join(" ", args) + " did not finish in " + timeoutSeconds
                        + " s:\n" + Files.readString(log));
            }
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        long peak = launched.values().stream().mapToLong(Long::longValue).max().orElse(0);
        return new MeasuredRun(p.exitValue(), out, peak, matching);
    }

    /** Records the process's VmHWM in bytes (its peak so far), keeping the largest seen. */
    private static void sample(ProcessHandle h, Map<Long, Long> peaks) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(h.pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    long bytes = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    peaks.merge(h.pid(), bytes, Math::max);
                }
            }
        } catch (IOException | RuntimeException gone) {
            // The process ended between listing and reading: its last sample stands.
        }
    }
}
