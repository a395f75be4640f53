package dev.kiln.common.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code <output>/status.json}: how the latest attempt of a stage on this output ended, for a scheduler or a person
 * to read without parsing logs. Written atomically at the end of every attempt, also a failed one (the run's data is
 * committed or invisible either way; this file only reports).
 *
 * @param run      the run the attempt committed or tried to commit (preprocess run=N, tokenize run-N); 0 when none
 * @param state    {@code succeeded}, {@code up_to_date} (nothing new, nothing written) or {@code failed}
 * @param counts   stage-specific counts (files, documents, shards, tokens)
 * @param exitCode the exit status the job returned
 * @param message  the failure, or null
 */
public record RunStatus(String stage, int run, String state, String started, String ended, Map<String, Long> counts,
                        int exitCode, String message) {
    public static final String FILE_NAME = "status.json";
    public static final String SUCCEEDED = "succeeded";
    public static final String UP_TO_DATE = "up_to_date";
    public static final String FAILED = "failed";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public RunStatus {
        counts = Map.copyOf(counts);
    }

    public String toJson() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", stage);
        m.put("run", run);
        m.put("state", state);
        m.put("started", started);
        m.put("ended", ended);
        m.put("counts", new TreeMap<>(counts));
        m.put("exit_code", exitCode);
        if (message != null) {
            m.put("message", message);
        }
        return JSON.writeValueAsString(m) + "\n";
    }

    public void write(FileSystem fs, Path output) throws IOException {
        AtomicOutput.writeString(fs, new Path(output, FILE_NAME), toJson());
    }

    public static RunStatus read(FileSystem fs, Path output) throws IOException {
        JsonNode n;
        try (FSDataInputStream in = fs.open(new Path(output, FILE_NAME))) {
            n = JSON.readTree(in);
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        n.path("counts").fields().forEachRemaining(e -> counts.put(e.getKey(), e.getValue().asLong()));
        return new RunStatus(n.path("stage").asText(), n.path("run").asInt(), n.path("state").asText(),
                n.path("started").asText(), n.path("ended").asText(), counts, n.path("exit_code").asInt(),
                n.hasNonNull("message") ? n.get("message").asText() : null);
    }
}
