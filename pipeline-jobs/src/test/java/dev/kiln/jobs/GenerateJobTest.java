package dev.kiln.jobs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
        org.apache.hadoop.fs.FileSystem fs = org.apache.hadoop.fs.FileSystem.getLocal(new org.apache.hadoop.conf.Configuration());
        org.apache.hadoop.fs.Path shards = new org.apache.hadoop.fs.Path(tmp.resolve("shards").toUri());
        String json = dev.kiln.tokenize.bpe.TokenizerJson.write(dev.kiln.tokenize.bpe.BpeTrainer.train(java.util.Map.of(),
                dev.kiln.tokenize.bpe.PreTokenizer.GPT2, 257, java.util.List.of("<|endoftext|>"), 1, null));
        String sha = dev.kiln.common.io.FileHashes.sha256(json);
        dev.kiln.common.io.AtomicOutput.writeString(fs, new org.apache.hadoop.fs.Path(shards, "tokenizer.json"), json);
        new dev.kiln.shards.Manifest(Integer.parseInt(dev.kiln.shards.ShardSchema.FORMAT_VERSION), "tokenizer.json", sha,
                257, 16, java.util.Map.of("<|endoftext|>", 0), null, java.util.List.of(), java.util.List.of()).write(fs, shards);
        var model = dev.kiln.model.GptModel.build(new dev.kiln.model.GptConfig(257, 16, 32, 1, 2, 2),
                new org.nd4j.linalg.learning.config.NoOp(), 0, 1, org.nd4j.linalg.api.buffer.DataType.FLOAT);
        Path run = tmp.resolve("tiny-run");
        new dev.kiln.train.checkpoint.CheckpointStore(fs, new org.apache.hadoop.fs.Path(run.resolve("checkpoints").toUri()), 1)
                .save(new dev.kiln.train.checkpoint.Checkpoint(1, model, dev.kiln.train.data.DataPosition.START, null,
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
