package dev.kiln.generate;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny GPT (vocabulary 257: end-of-text then the 256 bytes, context 16, d 32, 1 layer) with random weights, its
 * byte-level tokenizer, and a real training-run layout: shards/{tokenizer.json, manifest.json} and
 * run/checkpoints/step-N/ written by CheckpointStore.
 */
final class TinyGpt {
    static final int CONTEXT = 16;
    static final String EOT = "<|endoftext|>";

    private TinyGpt() {
    }

    /** 256 bytes + end-of-text (id 0), no merges. */
    static BpeTokenizer tokenizer() {
        return BpeTrainer.train(Map.of(), PreTokenizer.GPT2, 257, List.of(EOT), 1, null);
    }

    static final GptConfig SHAPE = new GptConfig(257, CONTEXT, 32, 1, 2, 2);

    static ComputationGraph model(long seed) {
        return model(SHAPE, seed);
    }

    static ComputationGraph model(GptConfig shape, long seed) {
        return GptModel.build(shape, new NoOp(), 0, seed, DataType.FLOAT);
    }

    /** Writes shards/ (tokenizer + manifest, no shard files) and run/checkpoints/step-00000007/; returns run/. */
    static Path run(java.nio.file.Path dir, long seed) throws IOException {
        return run(dir, SHAPE, seed);
    }

    /** {@link #run(java.nio.file.Path, long)} with a model of {@code shape} (vocabulary 257, context {@link #CONTEXT}). */
    static Path run(java.nio.file.Path dir, GptConfig shape, long seed) throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path shards = new Path(dir.resolve("shards").toUri());
        String json = TokenizerJson.write(tokenizer());
        String sha = FileHashes.sha256(json);
        AtomicOutput.writeString(fs, new Path(shards, "tokenizer.json"), json);
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha, 257, CONTEXT,
                Map.of(EOT, 0), null, List.of(), List.of()).write(fs, shards);
        Path run = new Path(dir.resolve("run").toUri());
        String configJson = "{\"shards\":\"" + shards + "\"}";
        new CheckpointStore(fs, new Path(run, "checkpoints"), 3)
                .save(new Checkpoint(7, model(shape, seed), DataPosition.START, null, configJson, sha, 1));
        return run;
    }

    /** kiln.generate with {@code overrides} (keys relative to kiln.generate). */
    static Config config(Map<String, String> overrides) {
        Map<String, String> o = new LinkedHashMap<>();
        overrides.forEach((k, v) -> o.put("kiln.generate." + k, v));
        return KilnConfig.load(null, o);
    }

    static GenerationConfig generation(Map<String, String> overrides) {
        return GenerationConfig.from(config(overrides));
    }
}
