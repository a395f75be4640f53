package dev.kiln.preprocess.filter;

import dev.kiln.preprocess.doc.DocPipeline;
import dev.kiln.preprocess.doc.DocStep;
import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.doc.Verdict;
import dev.kiln.testing.PreprocessRuns;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each Gopher check alone on a literal document built to fail it (with the measured value and the bound in the
 * detail), and the list in order: the first failing check names the removal, a normal paragraph passes them all.
 */
class QualityFiltersTest {
    private static final String PROSE = "The committee met on Tuesday to discuss the budget for the coming year. Members agreed that "
            + "the library needs new shelves, better lighting and longer opening hours during the examination period. "
            + "A proposal to expand the reading room was sent back for costing, and the treasurer promised figures "
            + "before the next meeting. Several students asked whether the café could stay open later in winter.";
    private static final List<DocStep> GOPHER = QualityFilters.from(PreprocessRuns.filter());
    private final DocPipeline filters = DocPipeline.of(GOPHER);

    private static Document doc(String text) {
        return Document.of("file:/in/doc.txt", "", text, Map.of());
    }

    /** The reason of the first check {@code text} fails, or null when it passes all of them. */
    private String firstFailure(String text) {
        DocPipeline.Outcome o = filters.run(doc(text));
        return o instanceof DocPipeline.Outcome.Dropped d ? d.drop().reason() : null;
    }

    private static DocStep step(List<DocStep> steps, String name) {
        return steps.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** The detail of {@code text} failing check {@code name} of {@code steps} alone. */
    private static String dropDetail(List<DocStep> steps, String name, String text) {
        Verdict v = step(steps, name).apply(doc(text));
        Verdict.Drop drop = assertInstanceOf(Verdict.Drop.class, v, name + " keeps " + text);
        assertEquals(name, drop.reason());
        return drop.detail();
    }

    private static String dropDetail(String name, String text) {
        return dropDetail(GOPHER, name, text);
    }

    @Test
    void ordinaryProsePasses() {
        assertNull(firstFailure(PROSE));
        for (DocStep s : GOPHER) {
            Document d = doc(PROSE);
            Verdict.Keep k = assertInstanceOf(Verdict.Keep.class, s.apply(d), s.name());
            assertSame(d, k.document(), "a filter never changes the document");
        }
    }

    @Test
    void theListRunsInGophersOrder() {
        assertEquals(List.of("too_few_words", "too_many_words", "mean_word_length", "symbol_word_ratio", "bullet_lines",
                "ellipsis_lines", "alpha_words", "duplicate_lines", "duplicate_line_chars", "duplicate_paragraphs",
                "duplicate_paragraph_chars", "top_2gram", "top_3gram", "top_4gram"), GOPHER.stream().map(DocStep::name).toList());
        assertTrue(GOPHER.stream().allMatch(s -> s.family() == DocStep.Family.FILTER));
    }

    @Test
    void eachCheckNamesItsFailure() {
        assertEquals("too_few_words", firstFailure("Too short to be a document."));
        assertEquals("mean_word_length", firstFailure(String.join(" ", Collections.nCopies(60, "a b c d e f"))));
        assertEquals("symbol_word_ratio", firstFailure(PROSE + " " + "#tag ".repeat(20)));
        assertEquals("bullet_lines", firstFailure(("- " + PROSE.substring(0, 80) + "\n").repeat(1)
                + ("* " + "list entry number with several words\n").repeat(20)));
        assertEquals("ellipsis_lines", firstFailure(PROSE + "\n" + "and then they said...\n".repeat(3) + "and so...\nfine...\nok..."));
        assertEquals("alpha_words", firstFailure(PROSE + " " + "1234 5678 90 12.5 44 ".repeat(8)));
        String repeatedLines = PROSE + "\n" + "Click here to unsubscribe from this list now\n".repeat(25);
        assertEquals("duplicate_lines", firstFailure(repeatedLines));
        String bigRepeatedLine = "Intro line one here.\nIntro line two.\n" + (PROSE + "\n").repeat(2) + "Other closing line of words.\n";
        assertEquals("duplicate_line_chars", firstFailure(bigRepeatedLine));
        String ngram = PROSE + " " + "buy cheap watches ".repeat(40);
        String failure = firstFailure(ngram);
        assertTrue(failure.startsWith("top_") || failure.startsWith("duplicate"), failure);
    }

    @Test
    void tooFewWords() {
        assertEquals("too_few_words: 6 < 50", dropDetail("too_few_words", "Too short to be a document."));
    }

    @Test
    void tooManyWords() {
        List<DocStep> tenWords = QualityFilters.from(PreprocessRuns.filter("min-words", "5", "max-words", "10"));
        assertEquals("too_many_words: 64 > 10", dropDetail(tenWords, "too_many_words", PROSE));
        assertInstanceOf(Verdict.Keep.class, step(tenWords, "too_many_words").apply(doc("one two three four five six seven eight nine ten")),
                "the bound itself passes");
    }

    @Test
    void meanWordLength() {
        assertEquals("mean_word_length: 1 < 3", dropDetail("mean_word_length", String.join(" ", Collections.nCopies(60, "a b c d e f"))));
        assertEquals("mean_word_length: 16 > 10", dropDetail("mean_word_length", "abcdefghijklmnop ".repeat(60)));
    }

    @Test
    void symbolWordRatio() {
        // 20 '#' among 64 + 20 words
        assertEquals("symbol_word_ratio: 0.2381 > 0.1", dropDetail("symbol_word_ratio", PROSE + " " + "#tag ".repeat(20)));
    }

    @Test
    void bulletLines() {
        assertEquals("bullet_lines: 1 > 0.9", dropDetail("bullet_lines", "* first item of the list\n• second item\n- third item"));
    }

    @Test
    void ellipsisLines() {
        assertEquals("ellipsis_lines: 0.5 > 0.3", dropDetail("ellipsis_lines", "so it began...\nand went on\nuntil…\nthe end"));
    }

    @Test
    void alphaWords() {
        assertEquals("alpha_words: 0.25 < 0.8", dropDetail("alpha_words", "12 34 56 word"));
    }

    @Test
    void duplicateLines() {
        assertEquals("duplicate_lines: 0.5 > 0.3", dropDetail("duplicate_lines", "a\nb\na\na"));
    }

    @Test
    void duplicateLineChars() {
        // one repeat of a 19-character line in 45 characters
        assertEquals("duplicate_line_chars: 0.4222 > 0.2", dropDetail("duplicate_line_chars", "x y z one long line\nshort\nx y z one long line"));
    }

    @Test
    void duplicateParagraphs() {
        assertEquals("duplicate_paragraphs: 0.5 > 0.3", dropDetail("duplicate_paragraphs", "p one\n\np two\n\np one\n\np one"));
    }

    @Test
    void duplicateParagraphChars() {
        // two repeats of a 5-character paragraph in 26 characters
        assertEquals("duplicate_paragraph_chars: 0.3846 > 0.2", dropDetail("duplicate_paragraph_chars", "p one\n\np two\n\np one\n\np one"));
    }

    @Test
    void top2gram() {
        // "a b" three times, 3 characters each, in 13 characters
        assertEquals("top_2gram: 0.6923 > 0.2", dropDetail("top_2gram", "a b a b a b c"));
    }

    @Test
    void top3gram() {
        // "a b c" three times, 5 characters each, in 17 characters
        assertEquals("top_3gram: 0.8824 > 0.18", dropDetail("top_3gram", "a b c a b c a b c"));
    }

    @Test
    void top4gram() {
        // "a b c d" twice, 7 characters each, in 15 characters
        assertEquals("top_4gram: 0.9333 > 0.16", dropDetail("top_4gram", "a b c d a b c d"));
    }

    @Test
    void topNgramCoverage() {
        TextProfile p = new TextProfile("a b a b a b c");
        assertEquals(3 * 3, p.topNgramChars(2), "'a b' three times, 3 characters each");
        assertEquals(0, new TextProfile("x y z").topNgramChars(2), "no repeated 2-gram");
    }

    @Test
    void disabledFiltersKeepEverything() {
        List<DocStep> off = QualityFilters.from(PreprocessRuns.filter("enabled", "false"));
        assertEquals(List.of(), off);
        assertInstanceOf(DocPipeline.Outcome.Kept.class, DocPipeline.of(off).run(doc("short")));
    }
}
