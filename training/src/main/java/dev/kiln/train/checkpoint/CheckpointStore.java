package dev.kiln.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.model.GptModel;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoints under {@code <output>/checkpoints/step-NNNNNNNN/}, through the Hadoop FileSystem API:
 * <pre>
 *   model.zip          DL4J ModelSerializer's layout: configuration, weights, optimizer state (AdamW moments,
 *                      iteration), streamed and stored uncompressed ({@link ModelZip}); earlier, compressed ones load too
 *   state.json         step, data position, workers, tokenizer SHA-256, the stage's config, time, and under "stage"
 *                      a stage's own state (fine-tuning: labels, parent checkpoint, early stopping)
 *   outer-momentum.bin DiLoCo's outer momentum (only with outer-optimizer = nesterov)
 * </pre>
 * A checkpoint is written into a {@code _tmp-} folder and renamed into place when complete, so a crash never
 * leaves a half-written {@code step-} folder; only the newest {@code keep} are kept.
 */
public final class CheckpointStore {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final Pattern NAME = Pattern.compile("step-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = "model.zip";
    static final String STATE = "state.json";
    static final String OUTER = "outer-momentum.bin";
    private static final int IO_BUFFER = 1 << 20;

    private final FileSystem fs;
    private final Path dir;
    private final int keep;

    public CheckpointStore(FileSystem fs, Path dir, int keep) {
        this.fs = fs;
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    public static String name(long step) {
        return String.format("step-%08d", step);
    }

    /** Writes the checkpoint atomically and deletes the oldest beyond {@code keep}; returns its folder. */
    public Path save(Checkpoint c) throws IOException {
        Path target = new Path(dir, name(c.step()));
        Path staging = AtomicOutput.stagingFor(target);
        fs.mkdirs(staging);
        boolean done = false;
        try {
            try (OutputStream out = new BufferedOutputStream(fs.create(new Path(staging, MODEL), false), IO_BUFFER)) {
                ModelZip.write(c.model(), out);
            }
            ObjectNode state = JSON.createObjectNode();
            state.put("step", c.step());
            ObjectNode pos = state.putObject("data_position");
            pos.put("epoch", c.position().epoch());
            pos.put("shard", c.position().shard());
            pos.put("row", c.position().row());
            state.put("workers", c.workers());
            state.put("tokenizer_sha256", c.tokenizerSha256());
            state.put("outer_momentum", c.outerMomentum() != null);
            state.put("written", Instant.now().toString());
            state.set("config", JSON.readTree(c.configJson()));
            if (c.stageJson() != null) {
                state.set("stage", JSON.readTree(c.stageJson()));
            }
            if (c.lineageJson() != null) {
                state.set("lineage", JSON.readTree(c.lineageJson()));
            }
            try (FSDataOutputStream out = fs.create(new Path(staging, STATE), false)) {
                out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state).getBytes(StandardCharsets.UTF_8));
            }
            if (c.outerMomentum() != null) {
                try (DataOutputStream out = new DataOutputStream(fs.create(new Path(staging, OUTER), false))) {
                    out.writeInt(c.outerMomentum().length);
                    for (float v : c.outerMomentum()) {
                        out.writeFloat(v);
                    }
                }
            }
            AtomicOutput.commit(fs, staging, target);
            done = true;
        } finally {
            if (!done) {
                fs.delete(staging, true);
            }
        }
        prune();
        return target;
    }

    /** Step folders present, oldest first (staging and moved-aside folders, which start with '_', are ignored). */
    public List<Path> list() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!fs.exists(dir)) {
            return out;
        }
        for (FileStatus s : fs.listStatus(dir)) {
            if (s.isDirectory() && NAME.matcher(s.getPath().getName()).matches()) {
                out.add(s.getPath());
            }
        }
        out.sort(Comparator.comparingLong(CheckpointStore::stepOf));
        return out;
    }

    public Optional<Path> latest() throws IOException {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * The one rule for a run that does not resume: its output must hold no checkpoint, since starting over would mix two
     * runs' checkpoints and metrics in one folder. {@code outputKey} is the key that named the folder; {@code
     * resumeHint} how this stage continues a run (e.g. {@code "pass --resume"}).
     */
    public void refuseStartOver(String outputKey, String resumeHint) throws IOException {
        Optional<Path> existing = latest();
        if (existing.isPresent()) {
            throw new InvalidConfigException(outputKey, dir.toString(), "already holds checkpoint " + existing.get().getName()
                    + ": " + resumeHint + " to continue that run, or set " + outputKey + " to a new folder");
        }
    }

    static long stepOf(Path p) {
        Matcher m = NAME.matcher(p.getName());
        if (!m.matches()) {
            throw new IllegalArgumentException(p + " is not a checkpoint folder (step-NNNNNNNN)");
        }
        return Long.parseLong(m.group(1));
    }

    /** A checkpoint's state.json alone (step, tokenizer, config), without loading its model. */
    public JsonNode readState(Path folder) throws IOException {
        try (FSDataInputStream in = fs.open(new Path(folder, STATE))) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new IOException("checkpoint " + folder + " has no readable " + STATE + ": " + e.getMessage(), e);
        }
    }

    public Checkpoint load(Path folder) throws IOException {
        JsonNode state;
        try (FSDataInputStream in = fs.open(new Path(folder, STATE))) {
            state = JSON.readTree(in);
        } catch (IOException e) {
            throw new IOException("checkpoint " + folder + " has no readable " + STATE + ": " + e.getMessage(), e);
        }
        ComputationGraph model = readModel(new Path(folder, MODEL));
        float[] outer = null;
        if (state.path("outer_momentum").asBoolean(false)) {
            try (DataInputStream in = new DataInputStream(fs.open(new Path(folder, OUTER)))) {
                outer = new float[in.readInt()];
                for (int i = 0; i < outer.length; i++) {
                    outer[i] = in.readFloat();
                }
            }
        }
        JsonNode pos = state.path("data_position");
        return new Checkpoint(state.path("step").asLong(), model,
                new DataPosition(pos.path("epoch").asInt(), pos.path("shard").asInt(), pos.path("row").asLong()),
                outer, state.path("config").toString(), state.path("tokenizer_sha256").asText(null),
                state.path("workers").asInt(1), state.has("stage") ? state.get("stage").toString() : null,
                state.has("lineage") ? state.get("lineage").toString() : null);
    }

    /** A model.zip streamed into the model's vectors; ModelSerializer for a layout that streaming does not know. */
    private ComputationGraph readModel(Path zip) throws IOException {
        try (InputStream in = new BufferedInputStream(fs.open(zip), IO_BUFFER)) {
            ComputationGraph model = ModelZip.read(in);
            if (model != null) {
                return model;
            }
        }
        LOG.info("{} is not in the layout Kiln streams: reading it with DL4J's ModelSerializer", zip);
        try (FSDataInputStream in = fs.open(zip)) {
            return GptModel.tie(ModelSerializer.restoreComputationGraph(in, true));
        }
    }

    private void prune() throws IOException {
        List<Path> all = list();
        for (int i = 0; i < all.size() - keep; i++) {
            LOG.info("removing old checkpoint {}", all.get(i));
            fs.delete(all.get(i), true);
        }
    }
}
