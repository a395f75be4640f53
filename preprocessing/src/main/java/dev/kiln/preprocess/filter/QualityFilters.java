package dev.kiln.preprocess.filter;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The Gopher quality and repetition heuristics (Rae et al. 2021, appendix A) as a list of named checks. The first
 * check a document fails is its removal reason.
 */
public final class QualityFilters implements Serializable {
    private static final String[] BULLETS = {"•", "●", "○", "■", "□", "▪", "▫", "‣", "⁃", "◦", "➢", "►", "-", "*"};

    private final List<DocFilter> filters;

    public QualityFilters(FilterConfig c) {
        List<DocFilter> f = new ArrayList<>();
        if (c.enabled()) {
            f.add(check("too_few_words", d -> d.words().size() >= c.minWords()));
            f.add(check("too_many_words", d -> d.words().size() <= c.maxWords()));
            f.add(check("mean_word_length", d -> {
                double mean = meanWordLength(d);
                return mean >= c.minMeanWordLength() && mean <= c.maxMeanWordLength();
            }));
            f.add(check("symbol_word_ratio", d -> symbolWordRatio(d) <= c.maxSymbolWordRatio()));
            f.add(check("bullet_lines", d -> fraction(d.lines(), QualityFilters::startsWithBullet) <= c.maxBulletLines()));
            f.add(check("ellipsis_lines", d -> fraction(d.lines(), l -> l.endsWith("...") || l.endsWith("…")) <= c.maxEllipsisLines()));
            f.add(check("alpha_words", d -> alphaWordFraction(d) >= c.minAlphaWords()));
            f.add(check("duplicate_lines", d -> ratio(TextProfile.duplicates(d.lines())[0], d.lines().size()) <= c.maxDuplicateLines()));
            f.add(check("duplicate_line_chars", d -> ratio(TextProfile.duplicates(d.lines())[1], d.text().length()) <= c.maxDuplicateLineChars()));
            f.add(check("duplicate_paragraphs", d -> ratio(TextProfile.duplicates(d.paragraphs())[0], d.paragraphs().size()) <= c.maxDuplicateParagraphs()));
            f.add(check("duplicate_paragraph_chars", d -> ratio(TextProfile.duplicates(d.paragraphs())[1], d.text().length()) <= c.maxDuplicateParagraphChars()));
            f.add(check("top_2gram", d -> ratio(d.topNgramChars(2), d.text().length()) <= c.maxTop2gramChars()));
            f.add(check("top_3gram", d -> ratio(d.topNgramChars(3), d.text().length()) <= c.maxTop3gramChars()));
            f.add(check("top_4gram", d -> ratio(d.topNgramChars(4), d.text().length()) <= c.maxTop4gramChars()));
        }
        this.filters = List.copyOf(f);
    }

    public List<DocFilter> filters() {
        return filters;
    }

    /** The name of the first failing check, or null when the text passes them all. */
    public String firstFailure(String text) {
        if (filters.isEmpty()) {
            return null;
        }
        TextProfile p = new TextProfile(text);
        for (DocFilter f : filters) {
            if (!f.keep(p)) {
                return f.name();
            }
        }
        return null;
    }

    static double meanWordLength(TextProfile d) {
        if (d.words().isEmpty()) {
            return 0;
        }
        long chars = 0;
        for (String w : d.words()) {
            chars += w.codePointCount(0, w.length());
        }
        return (double) chars / d.words().size();
    }

    static double symbolWordRatio(TextProfile d) {
        if (d.words().isEmpty()) {
            return 0;
        }
        String t = d.text();
        long symbols = 0;
        for (int i = 0; i < t.length(); i++) {
            char ch = t.charAt(i);
            if (ch == '#' || ch == '…') {
                symbols++;
            } else if (ch == '.' && t.startsWith("...", i)) {
                symbols++;
                i += 2;
            }
        }
        return (double) symbols / d.words().size();
    }

    static double alphaWordFraction(TextProfile d) {
        if (d.words().isEmpty()) {
            return 0;
        }
        long alpha = 0;
        for (String w : d.words()) {
            for (int i = 0; i < w.length(); i++) {
                if (Character.isLetter(w.charAt(i))) {
                    alpha++;
                    break;
                }
            }
        }
        return (double) alpha / d.words().size();
    }

    private static boolean startsWithBullet(String line) {
        for (String b : BULLETS) {
            if (line.startsWith(b)) {
                return true;
            }
        }
        return false;
    }

    private static double fraction(List<String> lines, Predicate<String> p) {
        if (lines.isEmpty()) {
            return 0;
        }
        long n = 0;
        for (String l : lines) {
            if (p.test(l)) {
                n++;
            }
        }
        return (double) n / lines.size();
    }

    private static double ratio(long part, long whole) {
        return whole == 0 ? 0 : (double) part / whole;
    }

    private static DocFilter check(String name, SerializablePredicate test) {
        return new DocFilter() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean keep(TextProfile doc) {
                return test.test(doc);
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    private interface SerializablePredicate extends Predicate<TextProfile>, Serializable {
    }
}
