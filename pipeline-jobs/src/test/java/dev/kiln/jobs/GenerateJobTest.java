package dev.kiln.jobs;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input to `kiln generate` exits 2 with a message naming the path (the model paths are tested in training). */
class GenerateJobTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void master() {
        System.setProperty("spark.master", "local[1]");
        System.setProperty("spark.ui.enabled", "false");
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
    }

    @AfterAll
    static void clear() {
        for (String p : new String[]{"spark.master", "spark.ui.enabled", "spark.driver.host", "spark.driver.bindAddress"}) {
            System.clearProperty(p);
        }
    }

    /** Exit status, what the job printed on stderr, and on stdout. */
    private static Object[] run(String... args) {
        JobRuns.Run r = JobRuns.capture(() -> GenerateJob.run(args));
        return new Object[]{r.status(), r.err(), r.out()};
    }

    /** A real run layout: shards/{tokenizer.json, manifest.json} and run/checkpoints/step-00000001/ (tiny random GPT). */
    private static Path tinyRun() throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        org.apache.hadoop.fs.Path shards = new org.apache.hadoop.fs.Path(tmp.resolve("shards").toUri());
        String json = TokenizerJson.write(BpeTrainer.train(Map.of(),
                PreTokenizer.GPT2, 257, List.of("<|endoftext|>"), 1, null));
        String sha = FileHashes.sha256(json);
        AtomicOutput.writeString(fs, new org.apache.hadoop.fs.Path(shards, "tokenizer.json"), json);
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha,
                257, 16, Map.of("<|endoftext|>", 0), null, List.of(), List.of()).write(fs, shards);
        var model = GptModel.build(new GptConfig(257, 16, 32, 1, 2, 2),
                new NoOp(), 0, 1, DataType.FLOAT);
        Path run = tmp.resolve("tiny-run");
        new CheckpointStore(fs, new org.apache.hadoop.fs.Path(run.resolve("checkpoints").toUri()), 1)
                .save(new Checkpoint(1, model, DataPosition.START, null,
                        "{\"shards\":\"" + shards + "\"}", sha, 1));
        return run;
    }

    @Test
    void onePromptOrAPromptFileFromARealCheckpointExitsZeroAndWritesJsonl() throws IOException {
        Path run = tinyRun();
        Path one = tmp.resolve("one.jsonl");
        Object[] r = run("--prompt", "Hello", "-Dkiln.generate.checkpoint=" + run, "-Dkiln.generate.output=" + one,
                "-Dkiln.generate.max-new-tokens=5");
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[2]).lines().anyMatch(l -> l.startsWith("Hello")), (String) r[2]);
        List<String> lines = Files.readAllLines(one);
        assertEquals(1, lines.size());
        assertTrue(lines.get(0).startsWith("{\"prompt_index\":0,\"prompt\":\"Hello\",\"sequence_index\":0"), lines.get(0));

        Path prompts = Files.writeString(tmp.resolve("two.txt"), "Hello\nWorld\n");
        Path two = tmp.resolve("two.jsonl");
        r = run("-Dkiln.generate.prompts=" + prompts, "-Dkiln.generate.checkpoint=" + run,
                "-Dkiln.generate.output=" + two, "-Dkiln.generate.max-new-tokens=5");
        assertEquals(0, r[0], (String) r[1]);
        List<String> both = Files.readAllLines(two);
        assertEquals(2, both.size());
        assertEquals(lines.get(0), both.get(0)); // greedy: the same text for prompt 0 in the driver and in a task
        assertTrue(both.get(1).contains("\"prompt_index\":1,\"prompt\":\"World\""), both.get(1));

        // --dry-run checks the checkpoint and prompts and says what it would write, without writing it.
        Path dry = tmp.resolve("dry.jsonl");
        r = run("--dry-run", "-Dkiln.generate.prompts=" + prompts, "-Dkiln.generate.checkpoint=" + run,
                "-Dkiln.generate.output=" + dry, "-Dkiln.generate.num-return-sequences=3", "-Dkiln.generate.do-sample=true");
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(((String) r[2]).contains("would write 6 sequence(s) to " + dry), (String) r[2]);
        assertTrue(!Files.exists(dry), "a dry run writes nothing");
    }

    @Test
    void promptIsTakenOutOfTheArguments() {
        GenerateJob.Arguments a = GenerateJob.Arguments.parse(new String[]{"--conf", "x.conf", "--prompt", "-Dnot=an override", "-Da=b"});
        assertEquals("-Dnot=an override", a.prompt());
        assertArrayEquals(new String[]{"--conf", "x.conf", "-Da=b"}, a.rest());
        assertEquals("{\"a\": 1}", GenerateJob.Arguments.parse(new String[]{"--prompt={\"a\": 1}"}).prompt());
    }

    @Test
    void anInvalidCombinationExitsTwoBeforeSparkStarts() {
        Object[] r = run("-Dkiln.generate.num-return-sequences=2");
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("kiln.generate.num-return-sequences"), (String) r[1]);
    }

    @Test
    void anEmptyPromptFileOrAFolderThatIsNotACheckpointExitsTwoNamingThePath() throws IOException {
        Path empty = Files.writeString(tmp.resolve("prompts.txt"), "\n");
        Object[] r = run("-Dkiln.generate.prompts=" + empty, "-Dkiln.generate.checkpoint=" + tmp);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains(empty.toString()) && ((String) r[1]).contains("no prompts"), (String) r[1]);

        Path prompts = Files.writeString(tmp.resolve("ok.txt"), "Hello\n");
        Path notACheckpoint = Files.createDirectories(tmp.resolve("run"));
        r = run("-Dkiln.generate.prompts=" + prompts, "-Dkiln.generate.checkpoint=" + notACheckpoint);
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains(notACheckpoint.toString()) && ((String) r[1]).contains("not a Kiln checkpoint"),
                (String) r[1]);
    }
}
