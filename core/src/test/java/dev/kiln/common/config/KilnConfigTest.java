package dev.kiln.common.config;

import com.typesafe.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KilnConfigTest {

    @Test
    void defaultsComeFromReferenceConf() {
        Settings s = new Settings(KilnConfig.load(null, Map.of()), "kiln.test-section");
        assertEquals(0.5, s.doubleIn("threshold", 0, 1));
        assertEquals(16, s.positiveInt("bands"));
        assertEquals(List.of("a", "b"), s.stringList("inputs"));
    }

    @Test
    void fileOverridesReferenceAndCommandLineOverridesFile(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("job.conf");
        Files.writeString(conf, "kiln.test-section {\n  bands = 20\n  threshold = 0.8\n}\n");
        Config c = KilnConfig.load(conf.toString(), Map.of("kiln.test-section.bands", "24", "kiln.test-section.output", "hdfs://nn:8020/x"));
        Settings s = new Settings(c, "kiln.test-section");
        assertEquals(24, s.positiveInt("bands"));
        assertEquals(0.8, s.doubleIn("threshold", 0, 1));
        // URIs with '//' survive -D overrides (unquoted HOCON would read them as comments).
        assertEquals("hdfs://nn:8020/x", s.string("output"));
    }

    @Test
    void listOverrideFromCommandLine() {
        Config c = KilnConfig.load(null, Map.of("kiln.test-section.inputs", "[x, y, z]"));
        assertEquals(List.of("x", "y", "z"), new Settings(c, "kiln.test-section").stringList("inputs"));
        Config c2 = KilnConfig.load(null, Map.of("kiln.test-section.inputs", "file:///a,file:///b"));
        assertEquals(List.of("file:///a", "file:///b"), new Settings(c2, "kiln.test-section").stringList("inputs"));
    }

    @Test
    void misspelledKeyInFileIsRejectedWithFileLineAndSuggestion(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("typo.conf");
        Files.writeString(conf, "kiln.test-section {\n  bands = 20\n  treshold = 0.8\n}\n");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> KilnConfig.load(conf.toString(), Map.of()));
        assertEquals("kiln.test-section.treshold", e.key());
        assertTrue(e.getMessage().contains("typo.conf: 3"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean kiln.test-section.threshold?"), e.getMessage());
    }

    @Test
    void freeFormSectionsAcceptAnyKey(@TempDir Path dir) throws Exception {
        Config c = KilnConfig.load(null, Map.of("kiln.test-section.extra.anything", "1"));
        assertEquals(1, c.getInt("kiln.test-section.extra.anything"));
        // Quoted keys with dots inside, as Spark properties are written.
        Path conf = dir.resolve("spark.conf");
        Files.writeString(conf, "kiln.test-section.extra { \"spark.sql.shuffle.partitions\" = 8 }\n");
        Config q = KilnConfig.load(conf.toString(), Map.of());
        assertEquals(8, q.getInt("kiln.test-section.extra.\"spark.sql.shuffle.partitions\""));
    }

    @Test
    void wrongTypeAndRangeErrorsNameKeyOriginAndExpectation(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, "kiln.test-section.bands = many\nkiln.test-section.threshold = 1.5\n");
        Settings s = new Settings(KilnConfig.load(conf.toString(), Map.of()), "kiln.test-section");
        InvalidConfigException bands = assertThrows(InvalidConfigException.class, () -> s.positiveInt("bands"));
        assertTrue(bands.getMessage().contains("kiln.test-section.bands"), bands.getMessage());
        assertTrue(bands.getMessage().contains("bad.conf: 1"), bands.getMessage());
        assertTrue(bands.getMessage().contains("expected an integer >= 1, got \"many\""), bands.getMessage());
        InvalidConfigException t = assertThrows(InvalidConfigException.class, () -> s.doubleIn("threshold", 0, 1));
        assertTrue(t.getMessage().contains("expected a number in [0.0, 1.0], got 1.5"), t.getMessage());
        InvalidConfigException mode = assertThrows(InvalidConfigException.class,
                () -> new Settings(KilnConfig.load(null, Map.of("kiln.test-section.mode", "chars")), "kiln.test-section").oneOf("mode", "word", "char"));
        assertTrue(mode.getMessage().contains("command line -Dkiln.test-section.mode"), mode.getMessage());
        assertTrue(mode.getMessage().contains("expected one of word, char, got \"chars\""), mode.getMessage());
    }

    @Test
    void missingConfFileIsAClearError() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> KilnConfig.load("/no/such/kiln.conf", Map.of()));
        assertTrue(e.getMessage().contains("/no/such/kiln.conf"), e.getMessage());
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }
}
