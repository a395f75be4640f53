package dev.kiln.jobs;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KilnMainTest {
    /** bin/kiln's job_class table and the jar's main class name the same job for every stage. */
    @Test
    void sameStageTableAsBinKiln() throws Exception {
        String script = Files.readString(Path.of("..", "bin", "kiln"));
        String table = script.substring(script.indexOf("job_class() {"), script.indexOf("*) return 1 ;;"));
        Map<String, String> fromScript = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s+([a-z-]+)\\)\\s+echo\\s+(\\S+)\\s+;;").matcher(table);
        while (m.find()) {
            fromScript.put(m.group(1), m.group(2));
        }
        assertEquals(fromScript, KilnMain.JOBS);
    }
}
