package dev.kiln.preprocess;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.preprocess.lang.Words;
import dev.kiln.preprocess.read.InputFormat;
import dev.kiln.testing.PreprocessRuns;
import org.junit.jupiter.api.Test;

import java.util.List;

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

    @Test
    void languageSettingsOverrideTheDefaultsAndAnyLanguageTakesTheSameKeys() {
        PreprocessConfig c = PreprocessRuns.config("input.paths", "x", "output.path", "o",
                "filter.by-language.ja.min-mean-word-length", "1.2", "filter.by-language.zh.min-words", "80", "filter.languages", "[zh, ja]");
        assertEquals(1.0, c.filter().byLanguage().get("zh").minMeanWordLength(), "reference.conf's Chinese setting");
        assertEquals(80, c.filter().byLanguage().get("zh").minWords());
        assertEquals(1.2, c.filter().byLanguage().get("ja").minMeanWordLength());
        assertEquals(100000, c.filter().byLanguage().get("ja").maxWords(), "a key left out keeps the default");
        assertEquals(3.0, c.filter().thresholdsFor("en", Words.Segmentation.SPACED).minMeanWordLength());
        assertEquals(3.0, c.filter().thresholdsFor("zh", Words.Segmentation.SPACED).minMeanWordLength(),
                "Chinese settings are for Chinese script");
        assertEquals(List.of("zh", "ja"), c.filter().languages());
        assertEquals(List.of("en", "zh"), PreprocessRuns.config("input.paths", "x", "output.path", "o",
                "filter.languages", "[eng, cmn]").filter().languages(), "ISO 639-3 codes become the codes documents carry");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> PreprocessRuns.config("input.paths", "x",
                "output.path", "o", "filter.by-language.ja.min-wrds", "3"));
        assertTrue(e.getMessage().contains("kiln.preprocess.filter.by-language.ja.min-wrds") && e.getMessage().contains("unknown key"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> PreprocessRuns.config("input.paths", "x", "output.path", "o",
                "filter.by-language.ja.min-alpha-words", "2"));
        assertTrue(e.getMessage().contains("kiln.preprocess.filter.by-language.ja.min-alpha-words"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> PreprocessRuns.config("input.paths", "x", "output.path", "o",
                "filter.by-language.ja.enabled", "false"));
        assertTrue(e.getMessage().contains("kiln.preprocess.filter.by-language.ja.enabled") && e.getMessage().contains("only the thresholds"),
                e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> PreprocessRuns.config("input.paths", "x", "output.path", "o",
                "filter.languages", "[zh]", "language.enabled", "false"));
        assertTrue(e.getMessage().contains("kiln.preprocess.filter.languages"), e.getMessage());
    }
}
