package dev.kiln.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.InvalidConfigException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A prompt file, as {@code kiln generate} and {@code kiln evaluate} read it: one prompt per non-blank line, or for a
 * {@code .jsonl} name one JSON object per line with a string field {@code prompt} (and optionally {@code reference},
 * a string that evaluation compares the generation with). Problems name the key, the file and the line.
 */
public final class PromptFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PromptFile() {
    }

    /** A prompt and its reference continuation (null: none). */
    public record Entry(String prompt, String reference) {
    }

    /** The prompts of {@code file} (the value of {@code key}) in file order, blank lines skipped; at least one. */
    public static List<Entry> read(Configuration hadoop, String file, String key) throws IOException {
        Path path = new Path(file);
        FileSystem fs = path.getFileSystem(hadoop);
        if (!fs.exists(path) || fs.getFileStatus(path).isDirectory()) {
            throw new InvalidConfigException(key, null, "the prompt file " + path + " does not exist or is a folder");
        }
        boolean jsonl = path.getName().endsWith(".jsonl");
        List<Entry> out = new ArrayList<>();
        try (FSDataInputStream in = fs.open(path);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (!line.isBlank()) {
                    out.add(jsonl ? jsonEntry(line, path + ":" + lineNo, key) : new Entry(line, null));
                }
            }
        }
        if (out.isEmpty()) {
            throw new InvalidConfigException(key, null, "the prompt file " + path + " holds no prompts");
        }
        return out;
    }

    private static Entry jsonEntry(String line, String where, String key) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (IOException e) {
            throw new InvalidConfigException(key, null, where + " is not JSON: " + e.getMessage());
        }
        if (!n.path("prompt").isTextual()) {
            throw new InvalidConfigException(key, null, where + " has no string field \"prompt\"");
        }
        JsonNode ref = n.path("reference");
        if (!ref.isMissingNode() && !ref.isNull() && !ref.isTextual()) {
            throw new InvalidConfigException(key, null, where + ": \"reference\" is not a string");
        }
        return new Entry(n.path("prompt").asText(), ref.isTextual() && !ref.asText().isEmpty() ? ref.asText() : null);
    }
}
