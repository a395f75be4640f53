package dev.kiln.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kiln export} through its entry point, with no spark.master set: the stage starts no SparkSession. */
class ExportJobTest {
    @TempDir
    static Path tmp;

    /** A run layout as pretrain leaves it: shards/{tokenizer.json, manifest.json}, run/checkpoints/step-00000003/. */
    private static Path run(String name, boolean tied, boolean bias) throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        org.apache.hadoop.fs.Path shards = new org.apache.hadoop.fs.Path(tmp.resolve(name + "-shards").toUri());
        String json = TokenizerJson.write(BpeTrainer.train(Map.of(),
                PreTokenizer.GPT2, 257, List.of("<|endoftext|>"), 1, null));
        String sha = FileHashes.sha256(json);
        AtomicOutput.writeString(fs, new org.apache.hadoop.fs.Path(shards, "tokenizer.json"), json);
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha,
                257, 16, Map.of("<|endoftext|>", 0), null, List.of(), List.of()).write(fs, shards);
        var model = GptModel.build(new GptConfig(257, 16, 32, 1, 2, 2, tied, bias),
                new NoOp(), 0, 1, DataType.FLOAT);
        Path run = tmp.resolve(name);
        new CheckpointStore(fs, new org.apache.hadoop.fs.Path(run.resolve("checkpoints").toUri()), 1)
                .save(new Checkpoint(3, model, DataPosition.START, null,
                        "{\"shards\":\"" + shards + "\"}", sha, 1));
        return run;
    }

    @Test
    void exportsTheNewestCheckpointOfARunAndRefusesAHeadBiasWithTheReason() throws IOException {
        Path run = run("tied", true, false);
        Path out = tmp.resolve("hf");
        JobRuns.Run dry = JobRuns.capture(() -> ExportJob.run(new String[]{"--dry-run", "-Dkiln.export.checkpoint=" + run,
                "-Dkiln.export.output=" + out}));
        assertEquals(0, dry.status(), dry.both());
        assertTrue(dry.out().contains("would export") && dry.out().contains("step 3"), dry.both());
        assertFalse(Files.exists(out), "a dry run writes nothing");

        JobRuns.Run r = JobRuns.capture(() -> ExportJob.run(new String[]{"-Dkiln.export.checkpoint=" + run,
                "-Dkiln.export.output=" + out}));
        assertEquals(0, r.status(), r.both());
        for (String f : new String[]{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "generation_config.json"}) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        var config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(257, config.get("vocab_size").asInt());
        assertEquals(0, config.get("eos_token_id").asInt(), "the end-of-text id of the run's tokenizer");
        assertEquals(3, config.get("kiln").get("step").asInt());

        Path biasFree = run("untied", false, false);
        JobRuns.Run untiedExport = JobRuns.capture(() -> ExportJob.run(new String[]{"-Dkiln.export.checkpoint=" + biasFree,
                "-Dkiln.export.output=" + tmp.resolve("hf-untied")}));
        assertEquals(0, untiedExport.status(), untiedExport.both());
        assertFalse(new ObjectMapper().readTree(tmp.resolve("hf-untied/config.json").toFile()).get("tie_word_embeddings")
                .asBoolean(), "an untied head without bias exports with its lm_head");

        Path biased = run("biased", false, true);
        JobRuns.Run refused = JobRuns.capture(() -> ExportJob.run(new String[]{"-Dkiln.export.checkpoint=" + biased,
                "-Dkiln.export.output=" + tmp.resolve("no")}));
        assertEquals(2, refused.status(), refused.both());
        assertTrue(refused.err().contains("kiln.export.checkpoint") && refused.err().contains("head-bias = false"), refused.both());
        assertFalse(Files.exists(tmp.resolve("no")));
    }
}
