package dev.kiln.jobs;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The argument splitting every job's main shares. */
class CommandLineTest {
    @Test
    void commandLineSplitsConfOverridesAndFlags() {
        CommandLine cl = CommandLine.parse("--conf", "conf/demo.conf", "-Dkiln.a=1", "-Dkiln.b=x=y", "--resume", "extra");
        assertEquals("conf/demo.conf", cl.confFile());
        assertEquals(Map.of("kiln.a", "1", "kiln.b", "x=y"), cl.overrides());
        assertTrue(cl.has("resume"));
        assertEquals(List.of("extra"), cl.positional());
        assertThrows(IllegalArgumentException.class, () -> CommandLine.parse("-Dnovalue"));
    }
}
