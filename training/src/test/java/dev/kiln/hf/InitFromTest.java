package dev.kiln.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.ResumePolicy;
import dev.kiln.train.SotuShards;
import dev.kiln.train.TinyRuns;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.checkpoint.HfImport;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kiln.train.init-from: pre-training that starts from the transformers-made GPT-2 fixture, on real SOTU text. */
class InitFromTest {
    static final int CONTEXT = 16; // the fixture's n_positions is 24: the first 16 positions are used

    @TempDir
    java.nio.file.Path tmp;

    /** SOTU speeches encoded with the fixture's own tokenizer, in Kiln's shard format. */
    static Path shards(java.nio.file.Path dir, HfImport.HfModel m) throws IOException {
        var fs = HuggingFaceRoundTripTest.FS;
        Path out = new Path(dir.toUri());
        List<java.nio.file.Path> files;
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.sotu())) {
            files = s.filter(p -> p.toString().endsWith(".txt")).sorted().limit(6).toList();
        }
        String sha = FileHashes.sha256(m.tokenizerJson());
        fs.mkdirs(out);
        try (var w = fs.create(new Path(out, "tokenizer.json"))) {
            w.write(m.tokenizerJson().getBytes(StandardCharsets.UTF_8));
        }
        List<ShardInfo> infos = new ArrayList<>();
        infos.add(shard(out, "train-0.arrow", ShardSchema.TRAIN, files.subList(0, 5), m.tokenizer(), sha));
        infos.add(shard(out, "validation-0.arrow", ShardSchema.VALIDATION, files.subList(5, 6), m.tokenizer(), sha));
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha, m.shape().vocabSize(), CONTEXT,
                Map.of("<|endoftext|>", 0), null, List.of(), infos).write(fs, out);
        return out;
    }

    private static ShardInfo shard(Path dir, String name, String split, List<java.nio.file.Path> docs, BpeTokenizer tok,
                                   String sha) throws IOException {
        try (ShardWriter w = ShardWriter.create(HuggingFaceRoundTripTest.FS, new Path(dir, name),
                new ShardSchema.Header(CONTEXT, tok.vocabSize(), sha, split), 64)) {
            RowPacker packer = new RowPacker(CONTEXT, w::write);
            for (java.nio.file.Path doc : docs) {
                for (int id : tok.encode(Files.readString(doc).substring(0, 4000))) {
                    packer.add(id);
                }
                packer.add(0);
            }
            ShardWriter.Committed c = w.commit();
            return new ShardInfo(name, split, c.rows(), packer.coveredTokens(), packer.droppedTokens(), docs.size(),
                    c.bytes(), c.sha256());
        }
    }

    private Config config(Path shards, String output, Map<String, String> more) {
        Map<String, String> o = new HashMap<>(Map.of("model.layers", "2", "model.d-model", "32", "model.heads", "4",
                "init-from", HuggingFaceRoundTripTest.fixture("tiny-gpt2").toString(), "steps", "4", "batch-size", "4",
                "validation.every", "4", "checkpoint.every", "0", "optimizer.warmup-steps", "1"));
        o.putAll(more);
        return TinyRuns.config(shards.toString(), output, o);
    }

    @Test
    void pretrainingStartsFromTheFoldersWeightsAndRecordsItsLineage() throws Exception {
        Path folder = HuggingFaceRoundTripTest.fixture("tiny-gpt2");
        HfImport.HfModel m = HfImport.read(HuggingFaceRoundTripTest.FS, folder, "k");
        Path shards = shards(tmp.resolve("shards"), m);
        Config c = config(shards, tmp.resolve("run").toString(), Map.of());
        TrainConfig cfg = TrainConfig.from(c);
        Pretrainer.Continuation from = InitFrom.continuation(cfg, new Configuration());

        // Before any step the model is transformers' model: its logits on the fixture's ids (first 16 positions).
        JsonNode expected = HuggingFaceRoundTripTest.json(new Path(folder, "expected.json"));
        int[] ids = Arrays.copyOf(HuggingFaceRoundTripTest.JSON.convertValue(expected.get("ids"), int[].class), CONTEXT);
        double[][] got = HuggingFaceRoundTripTest.logits(from.initial(), ids);
        for (int i = 0; i < CONTEXT; i++) {
            for (int v = 0; v < got[i].length; v++) {
                assertEquals(expected.get("logits").get(i).get(v).asDouble(), got[i][v], HuggingFaceRoundTripTest.LOGIT_TOLERANCE);
            }
        }

        IllegalArgumentException direct = assertThrows(IllegalArgumentException.class,
                () -> Pretraining.run(null, cfg, TinyRuns.lineage(c), ResumePolicy.Mode.NEVER));
        assertTrue(direct.getMessage().contains("init-from"), direct.getMessage());
        Pretrainer.Result r = Pretraining.run(null, cfg, TinyRuns.lineage(c), TinyRuns.lineage(c).configJson(),
                ResumePolicy.Mode.NEVER, from);
        assertEquals(4, r.endStep());
        assertTrue(Double.isFinite(r.lastValidationLoss()));

        var store = new CheckpointStore(HuggingFaceRoundTripTest.FS, new Path(tmp.resolve("run").toString(), "checkpoints"), 2);
        JsonNode stage = store.readState(store.latest().orElseThrow()).path("stage").path("init_from");
        assertEquals(m.folder(), stage.path("path").asText());
        assertEquals(FileHashes.sha256(HuggingFaceRoundTripTest.FS, new Path(folder, "model.safetensors")),
                stage.path("model_sha256").asText());
        ComputationGraph trained = store.load(store.latest().orElseThrow()).model();
        assertTrue(GptModel.isTied(trained));
    }

    @Test
    void aShapeOrTokenizerThatDiffersIsRefusedNamingTheKey() throws Exception {
        HfImport.HfModel m = HfImport.read(HuggingFaceRoundTripTest.FS, HuggingFaceRoundTripTest.fixture("tiny-gpt2"), "k");
        Path shards = shards(tmp.resolve("shards"), m);
        InvalidConfigException shape = assertThrows(InvalidConfigException.class, () -> InitFrom.continuation(
                TrainConfig.from(config(shards, tmp.resolve("a").toString(), Map.of("model.layers", "3"))), new Configuration()));
        assertEquals(InitFrom.KEY, shape.key());
        assertTrue(shape.getMessage().contains("layers"), shape.getMessage());

        Path byteShards = SotuShards.write(tmp.resolve("bytes"), CONTEXT, 3);
        InvalidConfigException tok = assertThrows(InvalidConfigException.class, () -> InitFrom.continuation(
                TrainConfig.from(config(byteShards, tmp.resolve("b").toString(), Map.of())), new Configuration()));
        assertEquals(InitFrom.KEY, tok.key());
        assertTrue(tok.getMessage().contains("tokenizer"), tok.getMessage());
    }
}
