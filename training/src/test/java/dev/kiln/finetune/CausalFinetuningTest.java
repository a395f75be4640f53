package dev.kiln.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.generate.GenerationCheckpoint;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import dev.kiln.testing.LocalSpark;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.checkpoint.ModelCheckpoints;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * task = causal: a tiny GPT pre-trained (in the test) on SOTU speeches with a byte-level tokenizer, then trained on
 * SpamAssassin mail tokenized with that same tokenizer. The mail's validation loss falls from the parent's; the
 * speeches' is logged beside it.
 */
class CausalFinetuningTest {
    static final int CONTEXT = 32;
    static final String EOT = "<|endoftext|>";

    @TempDir
    static java.nio.file.Path tmp;
    static FileSystem fs;
    static BpeTokenizer tokenizer;
    static String tokenizerSha;
    static java.nio.file.Path pretrained;
    static Path mail;

    @BeforeAll
    static void parent() throws IOException {
        fs = FileSystem.getLocal(new Configuration());
        // 256 bytes + end-of-text, no merges: the tokenizer travels as shards/tokenizer.json, as `kiln tokenize` writes it.
        tokenizer = BpeTrainer.train(Map.of(), PreTokenizer.GPT2, 257, List.of(EOT), 1, null);
        String json = TokenizerJson.write(tokenizer);
        tokenizerSha = FileHashes.sha256(json);
        Path sotu = shards(tmp.resolve("sotu-shards"), tokenizer, json, files(SampleCorpora.sotu(), 1, 6));
        mail = shards(tmp.resolve("mail-shards"), tokenizer, json, files(SampleCorpora.spamAssassin().resolve("easy-ham-1"), 25, 40));

        pretrained = tmp.resolve("pretrain");
        Map<String, String> p = new LinkedHashMap<>();
        p.put("kiln.train.shards", sotu.toString());
        p.put("kiln.train.output", pretrained.toString());
        p.put("kiln.train.model.layers", "1");
        p.put("kiln.train.model.d-model", "32");
        p.put("kiln.train.model.heads", "2");
        p.put("kiln.train.model.mlp-ratio", "2");
        p.put("kiln.train.batch-size", "8");
        p.put("kiln.train.steps", "40");
        p.put("kiln.train.optimizer.learning-rate", "3e-3");
        p.put("kiln.train.optimizer.min-learning-rate", "3e-4");
        p.put("kiln.train.optimizer.warmup-steps", "5");
        p.put("kiln.train.log-every", "20");
        p.put("kiln.train.validation.every", "0");
        p.put("kiln.train.validation.batches", "2");
        p.put("kiln.train.checkpoint.every", "0");
        Config pc = KilnConfig.load(null, p);
        Pretraining.run(null, TrainConfig.from(pc), Lineage.of("pretrain", pc, TrainConfig.SECTION, null), false);
    }

    /** Every {@code every}-th .txt file of {@code dir} by name, at most {@code limit}. */
    static List<java.nio.file.Path> files(java.nio.file.Path dir, int every, int limit) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.list(dir)) {
            List<java.nio.file.Path> all = s.filter(f -> f.toString().endsWith(".txt")).sorted().toList();
            List<java.nio.file.Path> out = new ArrayList<>();
            for (int i = 0; i < all.size() && out.size() < limit; i += every) {
                out.add(all.get(i));
            }
            return out;
        }
    }

    /** A shard folder as `kiln tokenize` lays it out: tokenizer.json, manifest.json, one train and one validation shard. */
    static Path shards(java.nio.file.Path dir, BpeTokenizer tok, String json, List<java.nio.file.Path> docs)
            throws IOException {
        Path out = new Path(dir.toUri());
        String sha = FileHashes.sha256(json);
        AtomicOutput.writeString(fs, new Path(out, "tokenizer.json"), json);
        List<java.nio.file.Path> train = new ArrayList<>();
        List<java.nio.file.Path> validation = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            (i % 5 == 2 ? validation : train).add(docs.get(i));
        }
        List<ShardInfo> infos = List.of(shard(out, "train-0.arrow", ShardSchema.TRAIN, train, tok, sha),
                shard(out, "validation-0.arrow", ShardSchema.VALIDATION, validation, tok, sha));
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha, tok.vocabSize(), CONTEXT,
                Map.of(EOT, tok.specialTokenId(EOT)), null, List.of(), infos).write(fs, out);
        return out;
    }

    private static ShardInfo shard(Path dir, String name, String split, List<java.nio.file.Path> docs, BpeTokenizer tok,
                                   String sha) throws IOException {
        try (ShardWriter w = ShardWriter.create(fs, new Path(dir, name),
                new ShardSchema.Header(CONTEXT, tok.vocabSize(), sha, split), 64)) {
            RowPacker packer = new RowPacker(CONTEXT, w::write);
            for (java.nio.file.Path doc : docs) {
                for (int id : tok.encode(Files.readString(doc, StandardCharsets.ISO_8859_1))) {
                    packer.add(id);
                }
                packer.add(tok.specialTokenId(EOT));
            }
            ShardWriter.Committed c = w.commit();
            return new ShardInfo(name, split, c.rows(), packer.coveredTokens(), packer.droppedTokens(), docs.size(),
                    c.bytes(), c.sha256());
        }
    }

    static Config config(java.nio.file.Path output, Map<String, String> overrides) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.finetune.task", "causal");
        o.put("kiln.finetune.checkpoint", pretrained.toString());
        o.put("kiln.finetune.output", output.toString());
        o.put("kiln.finetune.batch-size", "8");
        o.put("kiln.finetune.log-every", "10");
        o.put("kiln.finetune.causal.shards", mail.toString());
        o.put("kiln.finetune.causal.steps", "20");
        // 3e-3: the parent is tied (GPT-2's head, no bias), so moving to the new corpus's unigram statistics takes
        // weight changes rather than a bias shift; at 1e-3 its 20 steps lowered the mail loss by 0.04-0.08 only.
        o.put("kiln.finetune.causal.learning-rate", "3e-3");
        o.put("kiln.finetune.causal.warmup-steps", "2");
        o.put("kiln.finetune.causal.validation-every", "10");
        o.put("kiln.finetune.causal.validation-batches", "2");
        o.put("kiln.finetune.causal.checkpoint-every", "10");
        overrides.forEach((k, v) -> o.put("kiln.finetune." + k, v));
        return KilnConfig.load(null, o);
    }

    static Pretrainer.Result finetune(java.nio.file.Path output, Map<String, String> overrides, boolean resume)
            throws IOException {
        Config c = config(output, overrides);
        return CausalFinetuning.run(null, FinetuneConfig.from(c), Lineage.of("finetune", c, FinetuneConfig.SECTION, null), resume);
    }

    static List<JsonNode> validation(java.nio.file.Path out, String corpus) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> r = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = json.readTree(line);
            if ("validation".equals(n.path("kind").asText()) && corpus.equals(n.path("corpus").asText())) {
                r.add(n);
            }
        }
        return r;
    }

    @Test
    void theNewCorpusLossFallsFromTheParentsAndBothCorporaAreLogged() throws IOException {
        java.nio.file.Path out = tmp.resolve("causal");
        Pretrainer.Result r = finetune(out, Map.of(), false);
        assertEquals(0, r.startStep());
        assertEquals(20, r.endStep());
        List<JsonNode> mailLoss = validation(out, "new");
        List<JsonNode> sotuLoss = validation(out, "original");
        assertEquals(List.of(0L, 10L, 20L), mailLoss.stream().map(n -> n.path("step").asLong()).toList());
        assertEquals(List.of(0L, 10L, 20L), sotuLoss.stream().map(n -> n.path("step").asLong()).toList());
        double before = mailLoss.get(0).path("loss").asDouble();
        double after = mailLoss.get(2).path("loss").asDouble();
        System.out.printf("causal: mail loss %.4f -> %.4f, SOTU loss %.4f -> %.4f%n", before, after,
                sotuLoss.get(0).path("loss").asDouble(), sotuLoss.get(2).path("loss").asDouble());
        assertTrue(after < before - 0.05, "mail validation loss " + before + " -> " + after);
        assertEquals(after, r.lastValidationLoss(), 1e-9);

        JsonNode state = new ObjectMapper().readTree(out.resolve("checkpoints/step-00000020/state.json").toFile());
        JsonNode parent = state.path("stage").path("parent");
        assertEquals("causal", state.path("stage").path("task").asText());
        assertTrue(parent.path("path").asText().contains("pretrain/checkpoints/step-00000040"), parent.toString());
        assertEquals(64, parent.path("model_sha256").asText().length(), parent.toString());
        assertEquals(tokenizerSha, state.path("tokenizer_sha256").asText());
        // The one opener reads the fine-tune's output and its parent, a real pre-training run, the same way.
        ModelCheckpoint opened = ModelCheckpoints.open(new Configuration(), out.toString(), "k").requireLanguageModel("k");
        assertEquals(20, opened.step());
        assertEquals("causal", opened.stage().path("task").asText());
        assertEquals(parent.path("model_sha256").asText(), ModelCheckpoints.open(new Configuration(), pretrained.toString(), "k")
                .modelSha256(), "stage.parent names the parent's model.zip");
        assertTrue(opened.lineageJson().contains("finetune"), opened.lineageJson());
        assertEquals(GptModel.shapeOf(opened.model()), opened.shape());
        // kiln generate reads the output as it reads a pre-training run's, tokenizer included.
        var generation = GenerationCheckpoint.open(out.toString(), null, null, "kiln.generate",
                new Configuration());
        assertEquals(20, generation.step());
        assertTrue(generation.tokenizerPath().endsWith("mail-shards/tokenizer.json"), generation.tokenizerPath());
    }

    @Test
    void shardsOfAnotherTokenizerAreRefusedNamingBothTokenizers() throws IOException {
        BpeTokenizer other = BpeTrainer.train(Map.of(), PreTokenizer.GPT2, 258, List.of(EOT, "<|other|>"), 1, null);
        String json = TokenizerJson.write(other);
        Path shards = shards(tmp.resolve("other-shards"), other, json,
                files(SampleCorpora.spamAssassin().resolve("easy-ham-1"), 50, 10));
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> finetune(tmp.resolve("refused"), Map.of("causal.shards", shards.toString()), false));
        assertTrue(e.getMessage().contains("kiln.finetune.causal.shards"), e.getMessage());
        assertTrue(e.getMessage().contains(FileHashes.sha256(json)), e.getMessage());
        assertTrue(e.getMessage().contains(tokenizerSha), e.getMessage());
        assertTrue(!Files.exists(tmp.resolve("refused/checkpoints")), "nothing is written before the check");
    }

    @Test
    void resumeContinuesFromTheNewestCheckpointAndFrozenLayersKeepTheParentsWeights() throws IOException {
        Map<String, String> frozen = Map.of("freeze.embeddings", "true", "freeze.blocks", "1");
        java.nio.file.Path whole = tmp.resolve("whole");
        Pretrainer.Result uninterrupted = finetune(whole, frozen, false);

        java.nio.file.Path cut = tmp.resolve("cut");
        copy(whole, cut);
        deleteTree(cut.resolve("checkpoints/step-00000020"));
        Pretrainer.Result resumed = finetune(cut, frozen, true);
        assertEquals(10, resumed.startStep());
        assertEquals(20, resumed.endStep());
        assertEquals(uninterrupted.lastValidationLoss(), resumed.lastValidationLoss(), 1e-4);
        assertEquals(List.of(0L, 10L, 20L), validation(cut, "original").stream().map(n -> n.path("step").asLong()).toList());

        // A resume that would continue a different run refuses.
        assertThrows(InvalidConfigException.class, () -> finetune(whole, frozen, false));

        var parentModel = GenerationCheckpoint.restore(Files.readAllBytes(
                pretrained.resolve("checkpoints/step-00000040/model.zip")));
        var tuned = GenerationCheckpoint.restore(Files.readAllBytes(
                whole.resolve("checkpoints/step-00000020/model.zip")));
        for (String layer : List.of(GptModel.TOKEN_EMBEDDING, GptModel.block(0))) {
            assertEquals(parentModel.getLayer(layer).params(), tuned.getLayer(layer).params(), layer);
        }
        assertTrue(!parentModel.getLayer(GptModel.FINAL_NORM).params()
                .equals(tuned.getLayer(GptModel.FINAL_NORM).params()), "the final LayerNorm trains");
    }

    @Test
    void twoWorkersAverageTheParentsReplicasAndTheNewCorpusLossFalls() throws IOException {
        java.nio.file.Path out = tmp.resolve("two");
        // Frozen blocks, not embeddings: the parent is tied, so its token embedding is also the LM head.
        Config c = config(out, Map.of("parallel.workers", "2", "parallel.average-every", "5",
                "freeze.blocks", "1"));
        Pretrainer.Result r = CausalFinetuning.run(LocalSpark.get(), FinetuneConfig.from(c),
                Lineage.of("finetune", c, FinetuneConfig.SECTION, null), false);
        assertEquals(20, r.endStep());
        List<JsonNode> mailLoss = validation(out, "new");
        assertTrue(mailLoss.get(2).path("loss").asDouble() < mailLoss.get(0).path("loss").asDouble() - 0.05,
                mailLoss.toString());
        assertEquals(3, validation(out, "original").size());
    }

    private static void copy(java.nio.file.Path from, java.nio.file.Path to) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.walk(from)) {
            for (java.nio.file.Path p : s.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    private static void deleteTree(java.nio.file.Path dir) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.walk(dir)) {
            for (java.nio.file.Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
