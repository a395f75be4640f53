package dev.kiln.evaluate;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The word and byte counts lm-evaluation-harness divides by: words are {@code len(re.split(r"\s+", text))} and
 * bytes are {@code len(text.encode("utf-8"))}.
 *
 * <p>Python's {@code re.split} keeps empty strings at both ends, so leading or trailing whitespace adds a word
 * and the empty text has one. Java's {@code String.split} drops trailing empty strings unless the limit is
 * negative, and its {@code \s} is ASCII-only unless {@code UNICODE_CHARACTER_CLASS} is set (Python 3's {@code \s}
 * on str matches Unicode whitespace), hence both flags here.
 */
public final class TextCounts {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    private TextCounts() {
    }

    /** {@code len(re.split(r"\s+", text))}. */
    public static long words(String text) {
        // Counting the separators avoids building the array: pieces = matches + 1 (an empty text is one piece).
        Matcher m = WHITESPACE.matcher(text);
        long matches = 0;
        while (m.find()) {
            matches++;
        }
        return matches + 1;
    }

    /** The UTF-8 length of the text. */
    public static long utf8Bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
