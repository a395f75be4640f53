package dev.kiln.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.io.AtomicOutput;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per line ({@code "kind"}: train, validation, checkpoint), for reports.
 * Hadoop file systems cannot all append, so the file is rewritten atomically on every flush (it stays small:
 * one line per log interval). A resumed run keeps the lines up to its checkpoint's step and continues after them.
 */
public final class MetricsLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileSystem fs;
    private final Path file;
    private final List<String> lines = new ArrayList<>();

    public MetricsLog(FileSystem fs, Path file) {
        this.fs = fs;
        this.file = file;
    }

    public ObjectNode record(String kind, long step) {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", kind);
        n.put("step", step);
        return n;
    }

    public void append(ObjectNode record) {
        lines.add(record.toString());
    }

    /** Loads the existing file, keeping only records at or before {@code step} (the resumed checkpoint). */
    public void resumeAt(long step) throws IOException {
        lines.clear();
        if (!fs.exists(file)) {
            return;
        }
        try (FSDataInputStream in = fs.open(file)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && JSON.readTree(line).path("step").asLong() <= step) {
                    lines.add(line);
                }
            }
        }
    }

    public void flush() {
        try {
            AtomicOutput.writeString(fs, file, String.join("\n", lines) + (lines.isEmpty() ? "" : "\n"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
