package dev.kiln.preprocess.filter;

import dev.kiln.preprocess.doc.DocStep;
import dev.kiln.preprocess.filter.QualityFilter.SharedProfile;

import java.util.List;

import static dev.kiln.preprocess.filter.TextMeasure.ALPHA_WORDS;
import static dev.kiln.preprocess.filter.TextMeasure.BULLET_LINES;
import static dev.kiln.preprocess.filter.TextMeasure.DUPLICATE_LINES;
import static dev.kiln.preprocess.filter.TextMeasure.DUPLICATE_LINE_CHARS;
import static dev.kiln.preprocess.filter.TextMeasure.DUPLICATE_PARAGRAPHS;
import static dev.kiln.preprocess.filter.TextMeasure.DUPLICATE_PARAGRAPH_CHARS;
import static dev.kiln.preprocess.filter.TextMeasure.ELLIPSIS_LINES;
import static dev.kiln.preprocess.filter.TextMeasure.SYMBOL_WORD_RATIO;
import static dev.kiln.preprocess.filter.TextMeasure.TOP_2GRAM_CHARS;
import static dev.kiln.preprocess.filter.TextMeasure.TOP_3GRAM_CHARS;
import static dev.kiln.preprocess.filter.TextMeasure.TOP_4GRAM_CHARS;
import static dev.kiln.preprocess.filter.TextMeasure.WORDS;

/**
 * The Gopher quality and repetition heuristics (Rae et al. 2021, appendix A) as a list of {@link QualityFilter}
 * steps, in the order they run: the first check a document fails is its removal reason.
 */
public final class QualityFilters {
    private static final double NONE_BELOW = Double.NEGATIVE_INFINITY;
    private static final double NONE_ABOVE = Double.POSITIVE_INFINITY;

    private QualityFilters() {
    }

    public static final String MEAN_WORD_LENGTH = "mean_word_length";

    /** The checks of {@code c}; none when the filters are disabled. */
    public static List<DocStep> from(FilterConfig c) {
        if (!c.enabled()) {
            return List.of();
        }
        SharedProfile p = new SharedProfile();
        QualityFilter.Bound noneBelow = t -> NONE_BELOW;
        QualityFilter.Bound noneAbove = t -> NONE_ABOVE;
        return List.of(
                new QualityFilter("too_few_words", WORDS, Thresholds::minWords, noneAbove, c, p),
                new QualityFilter("too_many_words", WORDS, noneBelow, Thresholds::maxWords, c, p),
                new QualityFilter(MEAN_WORD_LENGTH, TextMeasure.MEAN_WORD_LENGTH, Thresholds::minMeanWordLength,
                        Thresholds::maxMeanWordLength, c, p),
                new QualityFilter("symbol_word_ratio", SYMBOL_WORD_RATIO, noneBelow, Thresholds::maxSymbolWordRatio, c, p),
                new QualityFilter("bullet_lines", BULLET_LINES, noneBelow, Thresholds::maxBulletLines, c, p),
                new QualityFilter("ellipsis_lines", ELLIPSIS_LINES, noneBelow, Thresholds::maxEllipsisLines, c, p),
                new QualityFilter("alpha_words", ALPHA_WORDS, Thresholds::minAlphaWords, noneAbove, c, p),
                new QualityFilter("duplicate_lines", DUPLICATE_LINES, noneBelow, Thresholds::maxDuplicateLines, c, p),
                new QualityFilter("duplicate_line_chars", DUPLICATE_LINE_CHARS, noneBelow, Thresholds::maxDuplicateLineChars, c, p),
                new QualityFilter("duplicate_paragraphs", DUPLICATE_PARAGRAPHS, noneBelow, Thresholds::maxDuplicateParagraphs, c, p),
                new QualityFilter("duplicate_paragraph_chars", DUPLICATE_PARAGRAPH_CHARS, noneBelow,
                        Thresholds::maxDuplicateParagraphChars, c, p),
                new QualityFilter("top_2gram", TOP_2GRAM_CHARS, noneBelow, Thresholds::maxTop2gramChars, c, p),
                new QualityFilter("top_3gram", TOP_3GRAM_CHARS, noneBelow, Thresholds::maxTop3gramChars, c, p),
                new QualityFilter("top_4gram", TOP_4GRAM_CHARS, noneBelow, Thresholds::maxTop4gramChars, c, p));
    }
}
