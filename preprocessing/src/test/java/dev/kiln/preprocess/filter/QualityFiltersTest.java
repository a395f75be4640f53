package dev.kiln.preprocess.filter;

import dev.kiln.testing.PreprocessRuns;
import org.junit.jupiter.api.Test;

import java.util.Collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each Gopher check fires on a document built to fail only it, and a normal paragraph passes them all. */
class QualityFiltersTest {
    private static final String PROSE = "The committee met on Tuesday to discuss the budget for the coming year. Members agreed that "
            + "the library needs new shelves, better lighting and longer opening hours during the examination period. "
            + "A proposal to expand the reading room was sent back for costing, and the treasurer promised figures "
            + "before the next meeting. Several students asked whether the café could stay open later in winter.";
    private final QualityFilters filters = new QualityFilters(PreprocessRuns.filter());

    @Test
    void ordinaryProsePasses() {
        assertNull(filters.firstFailure(PROSE));
    }

    @Test
    void eachCheckNamesItsFailure() {
        assertEquals("too_few_words", filters.firstFailure("Too short to be a document."));
        assertEquals("mean_word_length", filters.firstFailure(String.join(" ", Collections.nCopies(60, "a b c d e f"))));
        assertEquals("symbol_word_ratio", filters.firstFailure(PROSE + " " + "#tag ".repeat(20)));
        assertEquals("bullet_lines", filters.firstFailure(("- " + PROSE.substring(0, 80) + "\n").repeat(1)
                + ("* " + "list entry number with several words\n").repeat(20)));
        assertEquals("ellipsis_lines", filters.firstFailure(PROSE + "\n" + "and then they said...\n".repeat(3) + "and so...\nfine...\nok..."));
        assertEquals("alpha_words", filters.firstFailure(PROSE + " " + "1234 5678 90 12.5 44 ".repeat(8)));
        String repeatedLines = PROSE + "\n" + "Click here to unsubscribe from this list now\n".repeat(25);
        assertEquals("duplicate_lines", filters.firstFailure(repeatedLines));
        String bigRepeatedLine = "Intro line one here.\nIntro line two.\n" + (PROSE + "\n").repeat(2) + "Other closing line of words.\n";
        assertEquals("duplicate_line_chars", filters.firstFailure(bigRepeatedLine));
        String ngram = PROSE + " " + "buy cheap watches ".repeat(40);
        String failure = filters.firstFailure(ngram);
        assertTrue(failure.startsWith("top_") || failure.startsWith("duplicate"), failure);
    }

    @Test
    void topNgramCoverage() {
        TextProfile p = new TextProfile("a b a b a b c");
        assertEquals(3 * 3, p.topNgramChars(2), "'a b' three times, 3 characters each");
        assertEquals(0, new TextProfile("x y z").topNgramChars(2), "no repeated 2-gram");
    }

    @Test
    void disabledFiltersKeepEverything() {
        assertNull(new QualityFilters(PreprocessRuns.filter("enabled", "false")).firstFailure("short"));
    }
}
