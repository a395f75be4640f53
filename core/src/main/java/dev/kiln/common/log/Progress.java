package dev.kiln.common.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Logs a stage's progress the way a person wants to follow it: stage, records, bytes, rate and ETA.
 * Rate-limited (at most one line per interval) and cheap enough to call per record.
 */
public final class Progress {
    private static final Logger LOG = LoggerFactory.getLogger("kiln.progress");

    private final String stage;
    private final long totalRecords;
    private final long totalBytes;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long lastLog = start;
    private long records;
    private long bytes;

    /** totals may be -1 when unknown (no ETA is printed then). */
    public Progress(String stage, long totalRecords, long totalBytes, long interval, TimeUnit unit) {
        this.stage = stage;
        this.totalRecords = totalRecords;
        this.totalBytes = totalBytes;
        this.intervalNanos = unit.toNanos(interval);
    }

    public Progress(String stage, long totalRecords, long totalBytes) {
        this(stage, totalRecords, totalBytes, 10, TimeUnit.SECONDS);
    }

    public void add(long moreRecords, long moreBytes) {
        records += moreRecords;
        bytes += moreBytes;
        long now = System.nanoTime();
        if (now - lastLog >= intervalNanos) {
            lastLog = now;
            LOG.info(line(now, false));
        }
    }

    public void done() {
        LOG.info(line(System.nanoTime(), true));
    }

    public long records() {
        return records;
    }

    public long bytes() {
        return bytes;
    }

    public double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    String line(long now, boolean finished) {
        double secs = Math.max(1e-9, (now - start) / 1e9);
        StringBuilder sb = new StringBuilder();
        sb.append('[').append(stage).append("] ").append(finished ? "done: " : "");
        sb.append(String.format(Locale.ROOT, "%,d", records));
        if (totalRecords > 0) {
            sb.append(String.format(Locale.ROOT, "/%,d", totalRecords));
        }
        sb.append(" records, ").append(human(bytes));
        if (totalBytes > 0) {
            sb.append('/').append(human(totalBytes));
        }
        sb.append(String.format(Locale.ROOT, ", %.1f records/s, %s/s, %s elapsed", records / secs, human((long) (bytes / secs)), duration(secs)));
        if (!finished) {
            double fraction = totalBytes > 0 ? (double) bytes / totalBytes : totalRecords > 0 ? (double) records / totalRecords : -1;
            if (fraction > 0 && fraction < 1) {
                sb.append(", ETA ").append(duration(secs / fraction - secs));
            }
        }
        return sb.toString();
    }

    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    public static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1fs", seconds);
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
