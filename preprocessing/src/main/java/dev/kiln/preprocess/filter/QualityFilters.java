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
import static dev.kiln.preprocess.filter.TextMeasure.MEAN_WORD_LENGTH;
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

    /** The checks of {@code c}; none when the filters are disabled. */
    public static List<DocStep> from(FilterConfig c) {
        if (!c.enabled()) {
            return List.of();
        }
        SharedProfile p = new SharedProfile();
        return List.of(
                new QualityFilter("too_few_words", WORDS, c.minWords(), NONE_ABOVE, p),
                new QualityFilter("too_many_words", WORDS, NONE_BELOW, c.maxWords(), p),
                new QualityFilter("mean_word_length", MEAN_WORD_LENGTH, c.minMeanWordLength(), c.maxMeanWordLength(), p),
                new QualityFilter("symbol_word_ratio", SYMBOL_WORD_RATIO, NONE_BELOW, c.maxSymbolWordRatio(), p),
                new QualityFilter("bullet_lines", BULLET_LINES, NONE_BELOW, c.maxBulletLines(), p),
                new QualityFilter("ellipsis_lines", ELLIPSIS_LINES, NONE_BELOW, c.maxEllipsisLines(), p),
                new QualityFilter("alpha_words", ALPHA_WORDS, c.minAlphaWords(), NONE_ABOVE, p),
                new QualityFilter("duplicate_lines", DUPLICATE_LINES, NONE_BELOW, c.maxDuplicateLines(), p),
                new QualityFilter("duplicate_line_chars", DUPLICATE_LINE_CHARS, NONE_BELOW, c.maxDuplicateLineChars(), p),
                new QualityFilter("duplicate_paragraphs", DUPLICATE_PARAGRAPHS, NONE_BELOW, c.maxDuplicateParagraphs(), p),
                new QualityFilter("duplicate_paragraph_chars", DUPLICATE_PARAGRAPH_CHARS, NONE_BELOW, c.maxDuplicateParagraphChars(), p),
                new QualityFilter("top_2gram", TOP_2GRAM_CHARS, NONE_BELOW, c.maxTop2gramChars(), p),
                new QualityFilter("top_3gram", TOP_3GRAM_CHARS, NONE_BELOW, c.maxTop3gramChars(), p),
                new QualityFilter("top_4gram", TOP_4GRAM_CHARS, NONE_BELOW, c.maxTop4gramChars(), p));
    }
}
