package dev.kiln.evaluate.classify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.metrics.Prediction;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a classifier's predictions, one JSON object per line: {@code {"id": ..., "label": ..., "predicted": ...,
 * "probabilities": {label: p, ...}}} ({@code probabilities} may be absent). Blank lines are skipped; a line that is
 * not such an object is an error naming the file and line.
 */
public final class PredictionsJsonl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PredictionsJsonl() {
    }

    public static List<Prediction> read(FileSystem fs, Path file) throws IOException {
        try (Reader r = new InputStreamReader(fs.open(file), StandardCharsets.UTF_8)) {
            return read(r, file.toString());
        }
    }

    public static List<Prediction> read(Reader reader, String where) throws IOException {
        List<Prediction> out = new ArrayList<>();
        BufferedReader in = new BufferedReader(reader);
        String line;
        int n = 0;
        while ((line = in.readLine()) != null) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(parse(JSON.readTree(line)));
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ":" + n + ": expected {\"id\", \"label\", \"predicted\", "
                        + "\"probabilities\": {label: p}}: " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static Prediction parse(JsonNode o) {
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        for (String f : List.of("id", "label", "predicted")) {
            if (!o.path(f).isTextual()) {
                throw new IllegalArgumentException("field \"" + f + "\" is missing or not a string");
            }
        }
        Map<String, Double> probabilities = new TreeMap<>();
        JsonNode p = o.path("probabilities");
        if (!p.isMissingNode() && !p.isNull()) {
            if (!p.isObject()) {
                throw new IllegalArgumentException("\"probabilities\" is not an object");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNumber() || !(e.getValue().asDouble() >= 0 && e.getValue().asDouble() <= 1)) {
                    throw new IllegalArgumentException("probability of \"" + e.getKey() + "\" is " + e.getValue() + ", expected a number in [0, 1]");
                }
                probabilities.put(e.getKey(), e.getValue().asDouble());
            }
        }
        return new Prediction(o.get("id").asText(), o.get("label").asText(), o.get("predicted").asText(), probabilities);
    }
}
