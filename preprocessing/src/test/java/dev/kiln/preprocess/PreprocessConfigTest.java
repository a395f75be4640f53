package dev.kiln.preprocess;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.preprocess.read.InputFormat;
import dev.kiln.testing.PreprocessRuns;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreprocessConfigTest {

    @Test
    void defaultsComeFromReferenceConf() {
        PreprocessConfig c = PreprocessRuns.config("input.paths", "data/*.txt", "output.path", "out");
        assertEquals(InputFormat.AUTO, c.input().format());
        assertEquals(50, c.filter().minWords());
        assertEquals(0.5, c.minhash().threshold());
        assertEquals(42, c.minhash().bands(), "derived from the threshold");
        assertEquals(3, c.minhash().rows());
        assertEquals(PreprocessConfig.Keep.REPRESENTATIVES, c.dedup().keep());
        assertEquals(16L << 20, c.input().maxRecordBytes());
    }

    @Test
    void badValuesNameTheKey() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> PreprocessRuns.config("input.paths", "x", "output.path", "o", "minhash.bands", "20", "minhash.rows", "8"));
        assertTrue(e.getMessage().contains("kiln.preprocess.minhash.bands") && e.getMessage().contains("must not exceed permutations"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> PreprocessRuns.config("output.path", "o"));
        assertTrue(e.getMessage().contains("kiln.preprocess.input.paths"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> PreprocessRuns.config("input.paths", "x", "output.path", "o", "filter.min-word", "3"));
        assertTrue(e.getMessage().contains("unknown key") && e.getMessage().contains("min-words"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> PreprocessRuns.config("input.paths", "x", "output.path", "o", "input.format", "xml"));
        assertTrue(e.getMessage().contains("expected one of text, lines, jsonl, parquet, mail, auto"), e.getMessage());
    }
}
