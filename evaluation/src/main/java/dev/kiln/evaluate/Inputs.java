package dev.kiln.evaluate;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.GptConfig;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.checkpoint.ModelCheckpoints;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The inputs of an evaluation, opened and checked against each other before any Spark job runs: every problem is
 * an {@link InvalidConfigException} naming the key, the path, and what was expected (the job exits with 2 and
 * writes nothing).
 */
public final class Inputs {
    private Inputs() {
    }

    /** A checkpoint to score: its weights (without optimizer state) serialised for the broadcast. */
    public record CheckpointInput(String name, Path folder, long step, String tokenizerSha256, String stateSha256,
                                  String modelSha256, long modelZipBytes, int vocabSize, int contextLength, byte[] modelBytes) {
    }

    /** A tokenize output folder: its manifest, tokenizer, and the shards of the scored and train splits. */
    public record ShardSetInput(Path dir, Manifest manifest, String manifestSha256, String tokenizerJson, int endOfText,
                                List<ShardInfo> scored, List<ShardInfo> train) {
        public Path shardPath(ShardInfo s) {
            return new Path(dir, s.path());
        }
    }

    public record Checked(List<CheckpointInput> checkpoints, List<ShardSetInput> shardSets, Path report) {
        public int vocabSize() {
            return shardSets.get(0).manifest().vocabSize();
        }

        public int contextLength() {
            return shardSets.get(0).manifest().contextLength();
        }

        public int endOfText() {
            return shardSets.get(0).endOfText();
        }

        public String tokenizerJson() {
            return shardSets.get(0).tokenizerJson();
        }

        public String tokenizerSha256() {
            return shardSets.get(0).manifest().tokenizerSha256();
        }
    }

    public static Checked check(EvaluateConfig cfg, Configuration hadoop) throws IOException {
        String key = EvaluateConfig.SECTION + ".";
        Path output = new Path(cfg.output());
        FileSystem outFs = output.getFileSystem(hadoop);
        Path report = outFs.makeQualified(new Path(output, cfg.runName()));
        if (outFs.exists(report)) {
            throw new InvalidConfigException(key + "run-name", null, "the report folder " + report
                    + " already exists; expected a new folder (choose another kiln.evaluate.run-name, or remove the old report)");
        }

        List<ShardSetInput> sets = new ArrayList<>();
        for (String s : cfg.shards()) {
            sets.add(openShards(cfg, s, hadoop));
        }
        ShardSetInput first = sets.get(0);
        for (ShardSetInput s : sets) {
            if (!s.manifest().tokenizerSha256().equals(first.manifest().tokenizerSha256())
                    || s.manifest().contextLength() != first.manifest().contextLength()) {
                throw new InvalidConfigException(key + "shards", null, s.dir() + " has tokenizer " + s.manifest().tokenizerSha256()
                        + " and context length " + s.manifest().contextLength() + ", but " + first.dir() + " has "
                        + first.manifest().tokenizerSha256() + " and " + first.manifest().contextLength()
                        + "; expected shard folders made with one tokenizer and context length");
            }
        }
        if (!cfg.baselines().isEmpty() && sets.stream().allMatch(s -> s.train().stream().mapToLong(ShardInfo::rows).sum() == 0)) {
            throw new InvalidConfigException(key + "baselines.models", null, "the n-gram baselines are counted on split \""
                    + ShardSchema.TRAIN + "\", but " + cfg.shards() + " hold no train rows; expected train shards, or set "
                    + key + "baselines.models = []");
        }

        List<CheckpointInput> checkpoints = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String c : cfg.checkpoints()) {
            CheckpointInput in = openCheckpoint(c, hadoop);
            if (!in.tokenizerSha256().equals(first.manifest().tokenizerSha256())) {
                throw new InvalidConfigException(key + "checkpoints", null, "checkpoint " + in.folder() + " was trained on shards of tokenizer "
                        + in.tokenizerSha256() + " (its state.json tokenizer_sha256), but " + new Path(first.dir(), Manifest.FILE_NAME)
                        + " has tokenizer " + first.manifest().tokenizerSha256() + "; expected shards made with the checkpoint's tokenizer");
            }
            if (in.vocabSize() != first.manifest().vocabSize() || in.contextLength() != first.manifest().contextLength()) {
                throw new InvalidConfigException(key + "checkpoints", null, "checkpoint " + in.folder() + " has vocabulary "
                        + in.vocabSize() + " and context length " + in.contextLength() + "; the shards in " + first.dir()
                        + " have " + first.manifest().vocabSize() + " and " + first.manifest().contextLength());
            }
            String name = in.name();
            for (int i = 2; !names.add(name); i++) {
                name = in.name() + "#" + i;
            }
            checkpoints.add(new CheckpointInput(name, in.folder(), in.step(), in.tokenizerSha256(), in.stateSha256(),
                    in.modelSha256(), in.modelZipBytes(), in.vocabSize(), in.contextLength(), in.modelBytes()));
        }
        return new Checked(checkpoints, sets, report);
    }

    static ShardSetInput openShards(EvaluateConfig cfg, String location, Configuration hadoop) throws IOException {
        String key = EvaluateConfig.SECTION + ".shards";
        Path dir = new Path(location);
        FileSystem fs = dir.getFileSystem(hadoop);
        dir = fs.makeQualified(dir);
        Path manifestFile = new Path(dir, Manifest.FILE_NAME);
        if (!fs.exists(manifestFile)) {
            throw new InvalidConfigException(key, null, "no " + Manifest.FILE_NAME + " in " + dir
                    + "; expected a `kiln tokenize` output folder");
        }
        Manifest m;
        try {
            m = Manifest.read(fs, dir);
        } catch (IllegalStateException e) {
            throw new InvalidConfigException(key, null, e.getMessage());
        }
        List<ShardInfo> scored = m.shards(cfg.split());
        if (scored.isEmpty()) {
            throw new InvalidConfigException(key, null, manifestFile + " lists no shards of split \"" + cfg.split()
                    + "\" (it has " + m.shards().size() + " shard(s) of other splits); expected the split kiln.evaluate.split names");
        }
        if (scored.stream().mapToLong(ShardInfo::rows).sum() == 0) {
            throw new InvalidConfigException(key, null, "the " + scored.size() + " shard(s) of split \"" + cfg.split() + "\" in "
                    + dir + " hold no rows; expected at least one row of " + (m.contextLength() + 1) + " tokens");
        }
        for (ShardInfo s : scored) {
            if (!fs.exists(new Path(dir, s.path()))) {
                throw new InvalidConfigException(key, null, manifestFile + " lists " + s.path() + ", which does not exist");
            }
        }
        Integer eot = m.specialTokens().get(cfg.endOfText());
        if (eot == null) {
            throw new InvalidConfigException(EvaluateConfig.SECTION + ".end-of-text", null, "the tokenizer of " + dir
                    + " has no special token " + cfg.endOfText() + "; it has " + m.specialTokens().keySet());
        }
        Path tokenizerFile = new Path(dir, m.tokenizer());
        if (!fs.exists(tokenizerFile)) {
            throw new InvalidConfigException(key, null, "the manifest names tokenizer " + tokenizerFile + ", which does not exist");
        }
        String json;
        try (FSDataInputStream in = fs.open(tokenizerFile)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!FileHashes.sha256(json).equals(m.tokenizerSha256())) {
            throw new InvalidConfigException(key, null, tokenizerFile + " has SHA-256 " + FileHashes.sha256(json)
                    + ", the manifest says " + m.tokenizerSha256());
        }
        return new ShardSetInput(dir, m, FileHashes.sha256(fs, manifestFile), json, eot, scored, m.shards(ShardSchema.TRAIN));
    }

    static CheckpointInput openCheckpoint(String location, Configuration hadoop) throws IOException {
        String key = EvaluateConfig.SECTION + ".checkpoints";
        Path given = new Path(location);
        FileSystem fs = given.getFileSystem(hadoop);
        given = fs.makeQualified(given);
        ModelCheckpoint c = ModelCheckpoints.open(fs, given, key).requireLanguageModel(key);
        Path folder = new Path(c.folder());
        if (c.imported() || c.tokenizerSha256() == null) {
            throw new InvalidConfigException(key, null, "checkpoint " + folder + (c.imported() ? " is a Hugging Face folder; "
                    + "kiln evaluate scores Kiln checkpoints (import it with kiln.train.init-from)"
                    : " records no tokenizer_sha256 in state.json"));
        }
        GptConfig shape = c.shape();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(c.model(), bytes, false); // the weights only: scoring needs no optimizer state
        String parent = folder.getParent() != null && folder.getParent().getParent() != null
                ? folder.getParent().getParent().getName() + "/" : "";
        return new CheckpointInput(parent + folder.getName(), folder, c.step(), c.tokenizerSha256(),
                FileHashes.sha256(fs, new Path(folder, "state.json")), c.modelSha256(),
                fs.getFileStatus(new Path(folder, "model.zip")).getLen(), shape.vocabSize(), shape.contextLength(), bytes.toByteArray());
    }
}
