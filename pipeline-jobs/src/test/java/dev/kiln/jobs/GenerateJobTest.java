package dev.kiln.jobs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

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

    /** Exit status and what the job printed on stderr. */
    private static Object[] run(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int status = GenerateJob.run(args);
            return new Object[]{status, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(err);
        }
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
