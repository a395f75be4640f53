package dev.kiln.jobs;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** conf/stages is the one stage table: the jar's copy is current, every class is a job, bin/kiln lists the stages. */
class KilnMainTest {
    private static final Path ROOT = KilnCliAccess.repoRoot();

    /** The rows of conf/stages: name -> {class, help line}. */
    private static Map<String, String[]> confStages() throws Exception {
        Map<String, String[]> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ROOT.resolve("conf/stages"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] cols = line.trim().split("\\s+", 3);
            assertEquals(3, cols.length, "conf/stages row without a help line (\"-\" for none): " + line);
            out.put(cols[0], new String[]{cols[1], cols[2]});
        }
        return out;
    }

    @Test
    void theJarsTableIsConfStages() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        confStages().forEach((name, row) -> expected.put(name, row[0]));
        assertEquals(expected, KilnMain.JOBS);
        assertEquals(List.of("preprocess", "tokenize", "pretrain", "finetune", "evaluate", "generate", "export", "cluster-check"),
                List.copyOf(KilnMain.JOBS.keySet()));
    }

    @Test
    void everyStageClassIsAJobWithMain() throws Exception {
        for (Map.Entry<String, String> e : KilnMain.JOBS.entrySet()) {
            Class<?> job = Class.forName(e.getValue());
            Method main = job.getMethod("main", String[].class);
            assertTrue(Modifier.isStatic(main.getModifiers()) && main.getReturnType() == void.class,
                    e.getKey() + ": " + e.getValue() + " has no static void main(String[])");
        }
    }

    @Test
    void binKilnReadsTheTable() throws Exception {
        KilnCliAccess.Result help = KilnCliAccess.run(Map.of(), 30, "--help");
        assertEquals(0, help.exitCode(), help.output());
        for (Map.Entry<String, String[]> e : confStages().entrySet()) {
            String name = e.getKey();
            String line = e.getValue()[1];
            if (line.equals("-")) {
                assertFalse(help.output().contains("\n  " + name + " "), name + " is not a stage command: " + help.output());
            } else {
                assertTrue(help.output().contains(String.format("  %-15s %s%n", name, line)),
                        "kiln --help must list " + name + ": " + help.output());
            }
        }
        String script = Files.readString(ROOT.resolve("bin/kiln"));
        for (String cls : KilnMain.JOBS.values()) {
            assertFalse(script.contains(cls), "bin/kiln names " + cls + " itself instead of reading conf/stages");
        }
    }
}
