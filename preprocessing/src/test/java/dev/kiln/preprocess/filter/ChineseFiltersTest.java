package dev.kiln.preprocess.filter;

import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.DocumentProcessor;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.Processed;
import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.lang.LanguageStep;
import dev.kiln.preprocess.read.ReadRecord;
import dev.kiln.testing.ChineseDuplicates;
import dev.kiln.testing.PreprocessRuns;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The filters on Chinese documents made of real poems (chinese-poetry's Tang collection), through the per-document
 * pipeline the job runs (cleaning, the language step, the filters): kept and dropped examples with their reasons.
 */
class ChineseFiltersTest {
    private static List<String> poems;

    @BeforeAll
    static void load() {
        poems = ChineseDuplicates.poems(SampleCorpora.chinesePoetry().resolve("quantangshi"), "poet.tang.", 400);
    }

    private static Processed run(String text, String... overrides) {
        String[] all = new String[overrides.length + 4];
        all[0] = "output.path";
        all[1] = "/unused";
        all[2] = "input.paths";
        all[3] = "/unused";
        System.arraycopy(overrides, 0, all, 4, overrides.length);
        PreprocessConfig cfg = PreprocessRuns.config(all);
        return new DocumentProcessor(cfg.clean(), cfg.language(), cfg.filter())
                .process(new ReadRecord.Read(Document.of("file:/in/zh.txt", "", text, Map.of())));
    }

    /** {@code n} poems from {@code from}, one per line. */
    private static String poems(int from, int n) {
        return String.join("\n", poems.subList(from, from + n));
    }

    @Test
    void aChineseDocumentIsKeptWithItsLanguageUnderTheChineseThresholds() {
        Processed p = run(poems(0, 8));
        Processed.Kept k = assertInstanceOf(Processed.Kept.class, p, p.toString());
        assertEquals("zh", k.document().metadata().get(LanguageStep.LANGUAGE));
        // The model's probability over its 103 languages; the best is well above the rest even on classical poems.
        assertTrue(Double.parseDouble(k.document().metadata().get(LanguageStep.SCORE)) > 0.2, k.document().metadata().toString());
    }

    @Test
    void withoutLanguageIdentificationTheEnglishWordLengthBoundsDropIt() {
        // Dictionary words average 1-2 characters: under the defaults' 3-10 the document goes, as the issue saw.
        Processed.Dropped r = assertInstanceOf(Processed.Dropped.class, run(poems(0, 8), "language.enabled", "false"));
        assertEquals("mean_word_length", r.reason());
    }

    @Test
    void aShortPoemHasTooFewWordsAndRepeatedLinesAreCaught() {
        Processed.Dropped shortOne = assertInstanceOf(Processed.Dropped.class, run(poems.get(0)));
        assertEquals("too_few_words", shortOne.reason());
        String repeated = String.join("\n", poems(0, 3), poems(0, 3), poems(0, 3), poems(3, 1));
        Processed.Dropped dup = assertInstanceOf(Processed.Dropped.class, run(repeated));
        assertEquals("duplicate_lines", dup.reason());
    }

    @Test
    void languagesKeepsOnlyTheListedOnesAndALanguageWithoutSettingsSkipsWordLength() {
        Processed.Dropped other = assertInstanceOf(Processed.Dropped.class, run(poems(0, 8), "filter.languages", "[en]"));
        assertEquals("language", other.reason());
        assertInstanceOf(Processed.Kept.class, run(poems(0, 8), "filter.languages", "[zh, en]"));
        // Without settings for Chinese, zh is an unspaced language without settings: mean_word_length is skipped (the
        // document is kept), the other filters still run (a short poem still goes).
        PreprocessConfig cfg = PreprocessRuns.config("output.path", "/unused", "input.paths", "/unused");
        FilterConfig none = new FilterConfig(true, cfg.filter().defaults(), Map.of(), List.of(), 0.99);
        DocumentProcessor withoutZh = new DocumentProcessor(cfg.clean(), cfg.language(), none);
        assertInstanceOf(Processed.Kept.class, withoutZh.process(new ReadRecord.Read(Document.of("file:/in/zh.txt", "", poems(0, 8), Map.of()))));
        Processed.Dropped shortOne = assertInstanceOf(Processed.Dropped.class,
                withoutZh.process(new ReadRecord.Read(Document.of("file:/in/zh.txt", "", poems.get(0), Map.of()))));
        assertEquals("too_few_words", shortOne.reason());
        assertEquals(List.of("mean_word_length"), none.skipped("zh"));
        assertEquals(List.of(), none.skipped("en"));
        assertEquals(List.of(), cfg.filter().skipped("zh"), "reference.conf has settings for Chinese");
    }
}
