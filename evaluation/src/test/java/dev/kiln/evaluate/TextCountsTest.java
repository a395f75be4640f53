package dev.kiln.evaluate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Word and byte counts as lm-evaluation-harness computes them in Python. */
class TextCountsTest {
    @Test
    void wordsCountLikePythonsReSplitOnWhitespace() {
        // Values of len(re.split(r"\s+", s)), checked with CPython 3:
        assertEquals(1, TextCounts.words(""));                 // ['']
        assertEquals(1, TextCounts.words("word"));             // ['word']
        assertEquals(2, TextCounts.words("two words"));
        assertEquals(2, TextCounts.words("two \t\n  words"));  // a run of whitespace is one separator
        assertEquals(3, TextCounts.words(" lead trail"));      // ['', 'lead', 'trail']
        assertEquals(3, TextCounts.words("lead trail "));      // ['lead', 'trail', '']: the trailing empty string counts
        assertEquals(5, TextCounts.words("  both ends  x\n")); // ['', 'both', 'ends', 'x', '']
    }

    @Test
    void emptyStringsAtBothEndsCount() {
        // re.split(r"\s+", "  a b  ") == ['', 'a', 'b', ''] -> 4
        assertEquals(4, TextCounts.words("  a b  "));
        // re.split(r"\s+", " ") == ['', ''] -> 2
        assertEquals(2, TextCounts.words(" "));
        // re.split(r"\s+", "\n\n") == ['', ''] -> 2
        assertEquals(2, TextCounts.words("\n\n"));
    }

    @Test
    void whitespaceIsUnicodeAware() {
        // Python 3's \s on str matches U+00A0 (no-break space), U+2003 (em space), U+3000 (ideographic space), U+0085.
        assertEquals(2, TextCounts.words("a\u00a0b"));
        assertEquals(2, TextCounts.words("a\u2003b"));
        assertEquals(2, TextCounts.words("a\u3000b"));
        assertEquals(2, TextCounts.words("a\u0085b"));
        // ... but not U+200B (zero-width space, a format character).
        assertEquals(1, TextCounts.words("a\u200bb"));
    }

    @Test
    void bytesAreUtf8Lengths() {
        assertEquals(0, TextCounts.utf8Bytes(""));
        assertEquals(5, TextCounts.utf8Bytes("hello"));
        assertEquals(2, TextCounts.utf8Bytes("\u00e9"));     // é
        assertEquals(3, TextCounts.utf8Bytes("\u20ac"));     // €
        assertEquals(4, TextCounts.utf8Bytes("\ud83d\ude00")); // an emoji outside the BMP: one code point, 4 bytes
    }
}
