package dev.kiln.generate;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.testing.LocalSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A prompt file as a Spark job: the text depends on the seed only, not on the master or the partitioning. */
class GenerationSparkTest {
    @TempDir
    static java.nio.file.Path tmp;
    static Path run;
    static java.nio.file.Path prompts;

    @BeforeAll
    static void write() throws IOException {
        run = TinyGpt.run(tmp, 3);
        prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, """
                {"prompt": "Fellow citizens"}
                {"prompt": "The state of the union", "id": 7}

                {"prompt": ""}
                {"prompt": "We the people"}
                {"prompt": "In the year"}
                """);
    }

    private static GenerationConfig cfg(String output, int partitions) {
        return TinyGpt.generation(Map.ofEntries(Map.entry("checkpoint", run.toString()),
                Map.entry("prompts", prompts.toString()), Map.entry("output", output), Map.entry("do-sample", "true"),
                Map.entry("num-return-sequences", "2"), Map.entry("max-new-tokens", "6"), Map.entry("top-k", "20"),
                Map.entry("top-p", "0.9"), Map.entry("repetition-penalty", "1.3"), Map.entry("seed", "17"),
                Map.entry("batch-size", "3"), Map.entry("partitions", Integer.toString(partitions))));
    }

    @Test
    void theSameSeedGivesTheSameTextOnLocal1AndLocal2() throws IOException {
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        SparkSession one = SparkSession.builder().master("local[1]").appName("generate-local1")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        java.nio.file.Path a = tmp.resolve("local1.jsonl");
        try {
            Generation.run(one, cfg(a.toString(), 1));
        } finally {
            one.stop();
        }
        java.nio.file.Path b = tmp.resolve("local2.jsonl");
        int restoredBefore = Generation.ExecutorCache.restored();
        Generation.Result r = Generation.run(LocalSpark.get(), cfg(b.toString(), 4));
        // 4 tasks on 2 cores of one executor JVM: at most 2 models restored, never one per task
        assertTrue(Generation.ExecutorCache.restored() - restoredBefore <= 2);

        List<String> la = Files.readAllLines(a);
        assertEquals(la, Files.readAllLines(b));
        assertEquals(10, la.size());
        assertEquals(5, r.prompts());
        assertTrue(la.get(0).contains("\"prompt_index\":0,\"prompt\":\"Fellow citizens\",\"sequence_index\":0"), la.get(0));
        assertTrue(la.get(9).contains("\"prompt_index\":4,\"prompt\":\"In the year\",\"sequence_index\":1"), la.get(9));
        assertNotEquals(r.completions().get(0).text(), r.completions().get(1).text());
        for (Generation.Completion c : r.completions()) {
            assertTrue(c.tokens() <= 6);
            assertEquals(c.tokens() == 6 ? "length" : "end_of_text", c.stopReason());
        }
    }

    @Test
    void anEmptyPromptFileIsRefusedNamingIt() throws IOException {
        java.nio.file.Path empty = tmp.resolve("empty.txt");
        Files.writeString(empty, "\n  \n");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> Generation.run(LocalSpark.get(),
                cfg(tmp.resolve("x.jsonl").toString(), 0).withPrompts(empty.toString(), tmp.resolve("x.jsonl").toString())));
        assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("no prompts"), e.getMessage());
    }

    @Test
    void aJsonlLineWithoutAPromptIsRefusedNamingFileAndLine() throws IOException {
        java.nio.file.Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"a\"}\n{\"text\": \"b\"}\n");
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> Generation.readPrompts(new Configuration(), bad.toString()));
        assertTrue(e.getMessage().contains(bad + ":2"), e.getMessage());
    }
}
