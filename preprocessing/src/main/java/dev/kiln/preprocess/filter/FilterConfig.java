package dev.kiln.preprocess.filter;

import dev.kiln.common.config.Settings;

import java.io.Serializable;

/** {@code kiln.preprocess.filter}: thresholds of the quality filters (Gopher's published values are the defaults, in reference.conf). */
public record FilterConfig(boolean enabled, int minWords, int maxWords, double minMeanWordLength, double maxMeanWordLength,
                           double maxSymbolWordRatio, double maxBulletLines, double maxEllipsisLines, double minAlphaWords,
                           double maxDuplicateLines, double maxDuplicateLineChars, double maxDuplicateParagraphs,
                           double maxDuplicateParagraphChars, double maxTop2gramChars, double maxTop3gramChars,
                           double maxTop4gramChars, double maxDroppedFraction) implements Serializable {

    public static FilterConfig from(Settings s) {
        int minWords = s.nonNegativeInt("min-words");
        int maxWords = s.positiveInt("max-words");
        s.require(minWords <= maxWords, "min-words", "must not exceed max-words (" + maxWords + ")");
        double minLen = s.doubleIn("min-mean-word-length", 0, 1000);
        double maxLen = s.doubleIn("max-mean-word-length", 0, 1000);
        s.require(minLen <= maxLen, "min-mean-word-length", "must not exceed max-mean-word-length (" + maxLen + ")");
        return new FilterConfig(s.bool("enabled"), minWords, maxWords, minLen, maxLen,
                s.doubleIn("max-symbol-word-ratio", 0, 1000), s.doubleIn("max-bullet-lines", 0, 1),
                s.doubleIn("max-ellipsis-lines", 0, 1), s.doubleIn("min-alpha-words", 0, 1),
                s.doubleIn("max-duplicate-lines", 0, 1), s.doubleIn("max-duplicate-line-chars", 0, 1),
                s.doubleIn("max-duplicate-paragraphs", 0, 1), s.doubleIn("max-duplicate-paragraph-chars", 0, 1),
                s.doubleIn("max-top-2gram-chars", 0, 1), s.doubleIn("max-top-3gram-chars", 0, 1),
                s.doubleIn("max-top-4gram-chars", 0, 1), s.doubleIn("max-dropped-fraction", 0, 1));
    }
}
