package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.io.FileHashes;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * report.json's {@code training}: the curves of every run an evaluated checkpoint comes from, read from the
 * {@code metrics.jsonl} that {@code kiln pretrain} writes next to {@code checkpoints/} (a checkpoint
 * {@code <run>/checkpoints/step-N} belongs to run {@code <run>}). Checkpoints of one run share one entry. A run
 * without a readable metrics.jsonl (a checkpoint copied out of its run) gets an entry with {@code error} and no
 * curves: the report is still written.
 *
 * <p>Columns, not records: {@code train} holds equal-length arrays {@code step, tokens, loss, lr, tokens_per_s,
 * averaging_share, grad_norm} (null where a record lacks the field), {@code validation} holds {@code step, tokens,
 * loss}. metrics.jsonl's validation records carry no token count; it is the step times the tokens per step of the
 * nearest train record (tokens grow linearly with the step: global batch x context length).
 */
public final class TrainingCurves {
    public static final String METRICS_FILE = "metrics.jsonl";
    static final String[] TRAIN_FIELDS = {"step", "tokens", "loss", "lr", "tokens_per_s", "averaging_share", "grad_norm"};
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingCurves() {
    }

    /** The run folder of a checkpoint folder, or null when it does not sit in a {@code checkpoints/} folder. */
    static Path runOf(Path checkpoint) {
        Path parent = checkpoint.getParent();
        return parent != null && parent.getName().equals("checkpoints") ? parent.getParent() : null;
    }

    public static ObjectNode read(Configuration hadoop, List<Inputs.CheckpointInput> checkpoints) {
        Map<String, List<Inputs.CheckpointInput>> byRun = new LinkedHashMap<>();
        for (Inputs.CheckpointInput c : checkpoints) {
            Path run = runOf(c.folder());
            byRun.computeIfAbsent(run == null ? c.folder().toString() : run.toString(), k -> new ArrayList<>()).add(c);
        }
        ObjectNode out = JSON.createObjectNode();
        ArrayNode runs = out.putArray("runs");
        for (Map.Entry<String, List<Inputs.CheckpointInput>> e : byRun.entrySet()) {
            ObjectNode n = runs.addObject();
            n.put("run", e.getKey());
            ArrayNode names = n.putArray("checkpoints");
            ArrayNode steps = n.putArray("evaluated_steps");
            for (Inputs.CheckpointInput c : e.getValue()) {
                names.add(c.name());
                steps.add(c.step());
            }
            Path run = runOf(e.getValue().get(0).folder());
            if (run == null) {
                n.put("error", "checkpoint " + e.getKey() + " is not inside a run's checkpoints/ folder, so it has no " + METRICS_FILE);
                continue;
            }
            Path file = new Path(run, METRICS_FILE);
            n.put("metrics_file", file.toString());
            try {
                FileSystem fs = file.getFileSystem(hadoop);
                if (!fs.exists(file)) {
                    n.put("error", "no " + METRICS_FILE + " in " + run);
                    continue;
                }
                String text;
                try (FSDataInputStream in = fs.open(file)) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                n.put("metrics_sha256", FileHashes.sha256(fs, file));
                n.put("metrics_bytes", fs.getFileStatus(file).getLen());
                columns(text, n);
            } catch (IOException | RuntimeException ex) {
                n.put("error", "cannot read " + file + ": " + ex.getMessage());
            }
        }
        return out;
    }

    /** Parses metrics.jsonl text into {@code n.train}, {@code n.validation} and {@code n.checkpoint_steps}. */
    static void columns(String text, ObjectNode n) throws IOException {
        List<JsonNode> train = new ArrayList<>();
        List<JsonNode> validation = new ArrayList<>();
        ArrayNode saved = JSON.createArrayNode();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode r = JSON.readTree(line);
            switch (r.path("kind").asText()) {
                case "train" -> train.add(r);
                // A causal fine-tune also logs the parent's corpus ("corpus": "original"); the curve is the trained one's.
                case "validation" -> {
                    if (!"original".equals(r.path("corpus").asText())) {
                        validation.add(r);
                    }
                }
                case "checkpoint" -> saved.add(r.path("step").asLong());
                default -> {
                    // other kinds (a later trainer's) are not curves this report draws
                }
            }
        }
        ObjectNode t = n.putObject("train");
        for (String f : TRAIN_FIELDS) {
            ArrayNode col = t.putArray(f);
            for (JsonNode r : train) {
                JsonNode v = r.get(f);
                if (v != null && v.isNumber()) {
                    col.add(v);
                } else {
                    col.addNull();
                }
            }
        }
        ObjectNode v = n.putObject("validation");
        ArrayNode vs = v.putArray("step");
        ArrayNode vt = v.putArray("tokens");
        ArrayNode vl = v.putArray("loss");
        for (JsonNode r : validation) {
            long step = r.path("step").asLong();
            vs.add(step);
            double perStep = tokensPerStep(train, step);
            if (Double.isNaN(perStep)) {
                vt.addNull();
            } else {
                vt.add(Math.round(step * perStep));
            }
            if (r.path("loss").isNumber()) {
                vl.add(r.path("loss").asDouble());
            } else {
                vl.addNull();
            }
        }
        n.set("checkpoint_steps", saved);
    }

    /** Tokens per step of the train record nearest to {@code step}; NaN without usable train records. */
    static double tokensPerStep(List<JsonNode> train, long step) {
        double best = Double.NaN;
        long bestDistance = Long.MAX_VALUE;
        for (JsonNode r : train) {
            long s = r.path("step").asLong();
            if (s > 0 && r.path("tokens").isNumber() && Math.abs(s - step) < bestDistance) {
                bestDistance = Math.abs(s - step);
                best = r.path("tokens").asDouble() / s;
            }
        }
        return best;
    }
}
