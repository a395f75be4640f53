package dev.kiln.train.checkpoint;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.ClassifierHead;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one opener on checkpoints written by {@link CheckpointStore} (the trainer's writer), on a classifier, and on the
 * Hugging Face fixture folders; what it refuses, naming the key and the path. Checkpoints written by real pre-training
 * and fine-tuning runs are opened in the finetune package's tests.
 */
class ModelCheckpointsTest {
    static final String KEY = "kiln.test.checkpoint";
    static final String EOT = "<|endoftext|>";
    static final GptConfig SHAPE = new GptConfig(257, 16, 32, 1, 2, 2);
    static final Configuration HADOOP = new Configuration();
    @TempDir
    static java.nio.file.Path tmp;
    static FileSystem fs;
    static Path run;
    static Path shards;
    static String tokenizerSha;

    @BeforeAll
    static void write() throws IOException {
        fs = FileSystem.getLocal(HADOOP);
        shards = new Path(tmp.resolve("shards").toUri());
        String json = TokenizerJson.write(BpeTrainer.train(Map.of(), PreTokenizer.GPT2, 257, List.of(EOT), 1, null));
        tokenizerSha = FileHashes.sha256(json);
        AtomicOutput.writeString(fs, new Path(shards, "tokenizer.json"), json);
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", tokenizerSha, 257, 16,
                Map.of(EOT, 0), null, List.of(), List.of()).write(fs, shards);
        run = new Path(tmp.resolve("run").toUri());
        CheckpointStore store = new CheckpointStore(fs, new Path(run, "checkpoints"), 3);
        for (long step : new long[]{3, 7}) {
            store.save(new Checkpoint(step, GptModel.build(SHAPE, new Adam(1e-3), 0.1, step, DataType.FLOAT),
                    DataPosition.START, null, "{\"shards\":\"" + shards + "\"}", tokenizerSha, 1, null, "{\"stage\":\"pretrain\"}"));
        }
    }

    @Test
    void anOutputFolderOpensItsNewestCheckpointWithShapeLineageAndTheTokenizerOfItsShards() throws IOException {
        ModelCheckpoint m = ModelCheckpoints.open(HADOOP, run.toString(), KEY);
        assertTrue(m.folder().endsWith("run/checkpoints/step-00000007"), m.folder());
        assertEquals(ModelCheckpoint.Kind.LANGUAGE_MODEL, m.kind());
        assertEquals(ModelCheckpoint.Format.KILN, m.format());
        assertEquals(7, m.step());
        assertEquals(SHAPE, m.shape());
        assertEquals(SHAPE, GptModel.shapeOf(m.model()));
        assertEquals(tokenizerSha, m.tokenizerSha256());
        assertEquals(FileHashes.sha256(fs, new Path(m.folder(), "model.zip")), m.modelSha256());
        assertEquals("{\"stage\":\"pretrain\"}", m.lineageJson());
        assertEquals(List.of(), m.labels());
        // The same weights as the trainer wrote; the step folder and checkpoints/ name the same checkpoint.
        assertEquals(GptModel.build(SHAPE, new Adam(1e-3), 0.1, 7, DataType.FLOAT).params(), m.model().params());
        assertEquals(m.folder(), ModelCheckpoints.open(HADOOP, m.folder(), KEY).folder());
        assertEquals(m.folder(), ModelCheckpoints.open(HADOOP, run + "/checkpoints", KEY).folder());

        CheckpointTokenizer tok = ModelCheckpoints.tokenizer(HADOOP, m, null, "kiln.test.tokenizer");
        assertTrue(tok.path().endsWith("shards/tokenizer.json"), tok.path());
        assertEquals(tokenizerSha, tok.sha256());
        assertEquals(0, tok.tokenizer().specialTokenId(EOT));
    }

    @Test
    void aClassifierIsOpenedFromItsBestFolderAndRefusedWhereALanguageModelIsExpected() throws IOException {
        ComputationGraph parent = GptModel.build(SHAPE, new NoOp(), 0, 1, DataType.FLOAT);
        ComputationGraph classifier = ClassifierModel.fromParent(parent, 2, ClassifierHead.Pooling.LAST, null,
                new Adam(1e-3), 0.01, 5, List.of());
        Path out = new Path(tmp.resolve("classify").toUri());
        String stage = "{\"task\":\"classify\",\"labels\":[\"ham\",\"spam\"],\"context_length\":16}";
        new CheckpointStore(fs, new Path(out, "checkpoints"), 2).save(new Checkpoint(4, classifier, DataPosition.START, null,
                "{}", tokenizerSha, 1, stage));
        new CheckpointStore(fs, new Path(out, "best"), 1).save(new Checkpoint(2, classifier, DataPosition.START, null,
                "{}", tokenizerSha, 1, stage));
        ModelCheckpoint c = ModelCheckpoints.open(fs, out, KEY).requireClassifier(KEY);
        assertTrue(c.folder().endsWith("classify/best/step-00000002"), "the best checkpoint: " + c.folder());
        assertEquals(ModelCheckpoint.Kind.CLASSIFIER, c.kind());
        assertEquals(List.of("ham", "spam"), c.labels());
        // A classifier's trunk has no LM head, so its shape records no head bias.
        assertEquals(new GptConfig(SHAPE.vocabSize(), SHAPE.contextLength(), SHAPE.dModel(), SHAPE.layers(), SHAPE.heads(),
                SHAPE.mlpRatio(), false, false), c.shape());
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> c.requireLanguageModel(KEY));
        assertTrue(e.getMessage().contains(KEY) && e.getMessage().contains(c.folder())
                && e.getMessage().contains("is a classifier checkpoint"), e.getMessage());

        // Labels that do not match the head are refused when opened.
        Path wrong = new Path(tmp.resolve("wrong-labels").toUri());
        new CheckpointStore(fs, wrong, 1).save(new Checkpoint(1, classifier, DataPosition.START, null, "{}", tokenizerSha, 1,
                "{\"task\":\"classify\",\"labels\":[\"a\",\"b\",\"c\"]}"));
        e = assertThrows(InvalidConfigException.class, () -> ModelCheckpoints.open(fs, wrong, KEY));
        assertTrue(e.getMessage().contains("3 labels for a head of 2 classes"), e.getMessage());
    }

    @Test
    void aHuggingFaceFolderIsALanguageModelAtStepZeroWithItsOwnTokenizer() throws Exception {
        java.nio.file.Path hf = java.nio.file.Path.of(getClass().getResource("/hf/tiny-gpt2/config.json").toURI()).getParent();
        ModelCheckpoint m = ModelCheckpoints.open(HADOOP, hf.toString(), KEY);
        assertEquals(ModelCheckpoint.Format.HUGGING_FACE, m.format());
        assertEquals(ModelCheckpoint.Kind.LANGUAGE_MODEL, m.kind());
        assertEquals(0, m.step());
        assertNull(m.lineageJson());
        assertEquals(FileHashes.sha256(fs, new Path(hf.resolve("model.safetensors").toUri())), m.modelSha256());
        assertEquals(FileHashes.sha256(fs, new Path(hf.resolve("tokenizer.json").toUri())), m.tokenizerSha256());
        CheckpointTokenizer tok = ModelCheckpoints.tokenizer(HADOOP, m, null, "kiln.test.tokenizer");
        assertTrue(tok.path().endsWith("tiny-gpt2/tokenizer.json"), tok.path());
        assertEquals(m.vocabSize(), tok.tokenizer().vocabSize());

        // Another tokenizer than the folder's is refused: the model's ids are its own tokenizer's.
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> ModelCheckpoints.tokenizer(HADOOP, m,
                new Path(shards, "tokenizer.json").toString(), "kiln.test.tokenizer"));
        assertTrue(e.getMessage().contains("kiln.test.tokenizer") && e.getMessage().contains("SHA-256")
                && e.getMessage().contains("Hugging Face model"), e.getMessage());
    }

    @Test
    void whatIsNotAModelIsRefusedNamingTheKeyThePathAndWhatIsWrong() throws IOException {
        java.nio.file.Path empty = Files.createDirectories(tmp.resolve("empty"));
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> ModelCheckpoints.open(HADOOP, empty.toString(), KEY));
        assertTrue(e.getMessage().contains(KEY) && e.getMessage().contains(empty.toString())
                && e.getMessage().contains("not a Kiln checkpoint") && e.getMessage().contains("Hugging Face"), e.getMessage());

        e = assertThrows(InvalidConfigException.class, () -> ModelCheckpoints.open(HADOOP, tmp.resolve("none").toString(), KEY));
        assertTrue(e.getMessage().contains(tmp.resolve("none").toString()) && e.getMessage().contains("does not exist"),
                e.getMessage());

        java.nio.file.Path noModel = Files.createDirectories(tmp.resolve("no-model/step-00000001"));
        Files.writeString(noModel.resolve("state.json"), "{\"step\": 1, \"config\": {}}");
        e = assertThrows(InvalidConfigException.class, () -> ModelCheckpoints.open(HADOOP, noModel.toString(), KEY));
        assertTrue(e.getMessage().contains(noModel.toString()) && e.getMessage().contains("model.zip"), e.getMessage());

        java.nio.file.Path notJson = Files.createDirectories(tmp.resolve("not-json/step-00000001"));
        Files.writeString(notJson.resolve("state.json"), "{step");
        e = assertThrows(InvalidConfigException.class, () -> ModelCheckpoints.open(HADOOP, notJson.getParent().toString(), KEY));
        assertTrue(e.getMessage().contains(notJson + "/state.json") && e.getMessage().contains("not readable JSON"),
                e.getMessage());

        java.nio.file.Path badZip = Files.createDirectories(tmp.resolve("bad-zip/step-00000001"));
        Files.writeString(badZip.resolve("state.json"), "{\"step\": 1, \"config\": {}}");
        Files.writeString(badZip.resolve("model.zip"), "not a zip");
        e = assertThrows(InvalidConfigException.class, () -> ModelCheckpoints.open(HADOOP, badZip.toString(), KEY));
        assertTrue(e.getMessage().contains(badZip + "/model.zip") && e.getMessage().contains("not a readable Kiln model"),
                e.getMessage());

        // A tokenizer of another vocabulary than the model's.
        ModelCheckpoint m = ModelCheckpoints.open(HADOOP, run.toString(), KEY);
        java.nio.file.Path other = tmp.resolve("other-tokenizer.json");
        Files.writeString(other, TokenizerJson.write(BpeTrainer.train(Map.of("ab", 5L), PreTokenizer.GPT2, 258,
                List.of(EOT), 1, null)));
        e = assertThrows(InvalidConfigException.class, () -> ModelCheckpoints.tokenizer(HADOOP, m, other.toString(), "kiln.test.tokenizer"));
        assertTrue(e.getMessage().contains("kiln.test.tokenizer") && e.getMessage().contains(other.toString())
                && e.getMessage().contains(m.folder()), e.getMessage());
    }
}
