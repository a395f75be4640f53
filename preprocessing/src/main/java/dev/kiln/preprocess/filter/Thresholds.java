package dev.kiln.preprocess.filter;

import dev.kiln.common.config.Settings;

import java.io.Serializable;
import java.util.Set;

/**
 * The bounds of the quality filters for one language (or the defaults): Gopher's published values for English are
 * the defaults in reference.conf; {@code kiln.preprocess.filter.by-language.<code>} overrides any of them.
 */
public record Thresholds(int minWords, int maxWords, double minMeanWordLength, double maxMeanWordLength,
                         double maxSymbolWordRatio, double maxBulletLines, double maxEllipsisLines, double minAlphaWords,
                         double maxDuplicateLines, double maxDuplicateLineChars, double maxDuplicateParagraphs,
                         double maxDuplicateParagraphChars, double maxTop2gramChars, double maxTop3gramChars,
                         double maxTop4gramChars) implements Serializable {

    /** The keys of a language's settings (filter.by-language.<code>.<key>). */
    static final Set<String> KEYS = Set.of("min-words", "max-words", "min-mean-word-length",
            "max-mean-word-length", "max-symbol-word-ratio", "max-bullet-lines", "max-ellipsis-lines", "min-alpha-words",
            "max-duplicate-lines", "max-duplicate-line-chars", "max-duplicate-paragraphs", "max-duplicate-paragraph-chars",
            "max-top-2gram-chars", "max-top-3gram-chars", "max-top-4gram-chars");

    /** The thresholds in {@code s}; a key {@code s} lacks takes its value from {@code base} (null: every key is required). */
    static Thresholds from(Settings s, Thresholds base) {
        int minWords = base != null && !s.has("min-words") ? base.minWords : s.nonNegativeInt("min-words");
        int maxWords = base != null && !s.has("max-words") ? base.maxWords : s.positiveInt("max-words");
        s.require(minWords <= maxWords, "min-words", "must not exceed max-words (" + maxWords + ")");
        double minLen = d(s, base, "min-mean-word-length", 1000, base == null ? 0 : base.minMeanWordLength);
        double maxLen = d(s, base, "max-mean-word-length", 1000, base == null ? 0 : base.maxMeanWordLength);
        s.require(minLen <= maxLen, "min-mean-word-length", "must not exceed max-mean-word-length (" + maxLen + ")");
        return new Thresholds(minWords, maxWords, minLen, maxLen,
                d(s, base, "max-symbol-word-ratio", 1000, base == null ? 0 : base.maxSymbolWordRatio),
                d(s, base, "max-bullet-lines", 1, base == null ? 0 : base.maxBulletLines),
                d(s, base, "max-ellipsis-lines", 1, base == null ? 0 : base.maxEllipsisLines),
                d(s, base, "min-alpha-words", 1, base == null ? 0 : base.minAlphaWords),
                d(s, base, "max-duplicate-lines", 1, base == null ? 0 : base.maxDuplicateLines),
                d(s, base, "max-duplicate-line-chars", 1, base == null ? 0 : base.maxDuplicateLineChars),
                d(s, base, "max-duplicate-paragraphs", 1, base == null ? 0 : base.maxDuplicateParagraphs),
                d(s, base, "max-duplicate-paragraph-chars", 1, base == null ? 0 : base.maxDuplicateParagraphChars),
                d(s, base, "max-top-2gram-chars", 1, base == null ? 0 : base.maxTop2gramChars),
                d(s, base, "max-top-3gram-chars", 1, base == null ? 0 : base.maxTop3gramChars),
                d(s, base, "max-top-4gram-chars", 1, base == null ? 0 : base.maxTop4gramChars));
    }

    private static double d(Settings s, Thresholds base, String key, double max, double inherited) {
        return base != null && !s.has(key) ? inherited : s.doubleIn(key, 0, max);
    }
}
