package dev.kiln.generate;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading a real checkpoint written by CheckpointStore, and the refusals of bad input. */
class GenerationCheckpointTest {
    @TempDir
    static java.nio.file.Path tmp;
    static Path run;
    static final Configuration HADOOP = new Configuration();

    @BeforeAll
    static void write() throws IOException {
        run = TinyGpt.run(tmp, 5);
    }

    private static GenerationCheckpoint open(Map<String, String> overrides) throws IOException {
        return GenerationCheckpoint.open(TinyGpt.generation(overrides), HADOOP);
    }

    @Test
    void opensTheNewestCheckpointOfARunAndTheTokenizerOfItsShards() throws IOException {
        GenerationCheckpoint c = open(Map.of("checkpoint", run.toString()));
        assertTrue(c.folder().endsWith("checkpoints/step-00000007"), c.folder());
        assertEquals(7, c.step());
        assertEquals(TinyGpt.CONTEXT, c.contextLength());
        assertEquals(257, c.vocabSize());
        assertEquals(0, c.endOfText());
        assertTrue(c.tokenizerPath().endsWith("shards/tokenizer.json"), c.tokenizerPath());
        assertEquals(c.folder(), open(Map.of("checkpoint", c.folder())).folder());
        assertEquals(c.folder(), open(Map.of("checkpoint", run + "/checkpoints")).folder());
    }

    @Test
    void aFolderThatIsNotAKilnCheckpointIsRefusedNamingIt() throws IOException {
        java.nio.file.Path empty = Files.createDirectories(tmp.resolve("not-a-run"));
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> open(Map.of("checkpoint", empty.toString())));
        assertTrue(e.getMessage().contains("kiln.generate.checkpoint") && e.getMessage().contains(empty.toString())
                && e.getMessage().contains("not a Kiln checkpoint"), e.getMessage());

        java.nio.file.Path fake = Files.createDirectories(tmp.resolve("fake/step-00000001"));
        Files.writeString(fake.resolve("state.json"), "{\"hello\": 1}");
        e = assertThrows(InvalidConfigException.class, () -> open(Map.of("checkpoint", fake.toString())));
        assertTrue(e.getMessage().contains(fake.toString()) && e.getMessage().contains("not a Kiln checkpoint"),
                e.getMessage());

        e = assertThrows(InvalidConfigException.class, () -> open(Map.of("checkpoint", tmp.resolve("nothing").toString())));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aTokenizerOtherThanTheCheckpointsIsRefused() throws IOException {
        String other = TokenizerJson.write(BpeTrainer.train(Map.of("ab", 5L), PreTokenizer.GPT2, 258,
                List.of(TinyGpt.EOT), 1, null));
        java.nio.file.Path file = tmp.resolve("other-tokenizer.json");
        Files.writeString(file, other);
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> open(Map.of("checkpoint", run.toString(), "tokenizer", file.toString())));
        assertTrue(e.getMessage().contains("kiln.generate.tokenizer") && e.getMessage().contains("SHA-256")
                && e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void anUnknownEndOfTextTokenIsRefused() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> open(Map.of("checkpoint", run.toString(), "end-of-text", "<|eos|>")));
        assertTrue(e.getMessage().contains("kiln.generate.end-of-text"), e.getMessage());
    }

    @Test
    void oneGreedyPromptInTheDriverWritesJsonl() throws IOException {
        java.nio.file.Path out = tmp.resolve("one.jsonl");
        GenerationConfig cfg = TinyGpt.generation(Map.of("checkpoint", run.toString(), "output", out.toString(),
                "max-new-tokens", "6"));
        Generation.Result r = Generation.runOne(HADOOP, cfg, "The ");
        assertEquals(1, r.completions().size());
        Generation.Completion c = r.completions().get(0);
        assertTrue(c.tokens() <= 6);
        assertEquals(c.tokens() == 6 ? "length" : "end_of_text", c.stopReason());
        List<String> lines = Files.readAllLines(out);
        assertEquals(List.of(c.toJson()), lines);
        assertTrue(lines.get(0).startsWith("{\"prompt_index\":0,\"prompt\":\"The \",\"sequence_index\":0,\"text\":"),
                lines.get(0));
    }
}
