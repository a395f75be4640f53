package dev.kiln.preprocess.filter;

import java.util.List;
import java.util.function.Predicate;

/**
 * What a {@link QualityFilter} measures on a {@link TextProfile}: counts, means or fractions (0 when the text has
 * nothing to measure, e.g. no words or no lines). Each constant implements the one method {@link #of}.
 */
public enum TextMeasure {
    /** Number of words. */
    WORDS {
        @Override
        public double of(TextProfile p) {
            return p.words().size();
        }
    },
    /** Mean word length in code points. */
    MEAN_WORD_LENGTH {
        @Override
        public double of(TextProfile p) {
            if (p.words().isEmpty()) {
                return 0;
            }
            long chars = 0;
            for (String w : p.words()) {
                chars += w.codePointCount(0, w.length());
            }
            return (double) chars / p.words().size();
        }
    },
    /** Symbols ('#', '…' and "...") per word. */
    SYMBOL_WORD_RATIO {
        @Override
        public double of(TextProfile p) {
            if (p.words().isEmpty()) {
                return 0;
            }
            String t = p.text();
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
            return (double) symbols / p.words().size();
        }
    },
    /** Fraction of lines that start with a bullet point. */
    BULLET_LINES {
        @Override
        public double of(TextProfile p) {
            return fraction(p.lines(), TextMeasure::startsWithBullet);
        }
    },
    /** Fraction of lines that end with an ellipsis ("..." or '…'). */
    ELLIPSIS_LINES {
        @Override
        public double of(TextProfile p) {
            return fraction(p.lines(), l -> l.endsWith("...") || l.endsWith("…"));
        }
    },
    /** Fraction of words with at least one letter. */
    ALPHA_WORDS {
        @Override
        public double of(TextProfile p) {
            if (p.words().isEmpty()) {
                return 0;
            }
            long alpha = 0;
            for (String w : p.words()) {
                for (int i = 0; i < w.length(); i++) {
                    if (Character.isLetter(w.charAt(i))) {
                        alpha++;
                        break;
                    }
                }
            }
            return (double) alpha / p.words().size();
        }
    },
    /** Fraction of lines that repeat an earlier line. */
    DUPLICATE_LINES {
        @Override
        public double of(TextProfile p) {
            return ratio(p.lineRepeats().count(), p.lines().size());
        }
    },
    /** Fraction of the text's characters in lines that repeat an earlier line. */
    DUPLICATE_LINE_CHARS {
        @Override
        public double of(TextProfile p) {
            return ratio(p.lineRepeats().chars(), p.text().length());
        }
    },
    /** Fraction of paragraphs that repeat an earlier paragraph. */
    DUPLICATE_PARAGRAPHS {
        @Override
        public double of(TextProfile p) {
            return ratio(p.paragraphRepeats().count(), p.paragraphs().size());
        }
    },
    /** Fraction of the text's characters in paragraphs that repeat an earlier paragraph. */
    DUPLICATE_PARAGRAPH_CHARS {
        @Override
        public double of(TextProfile p) {
            return ratio(p.paragraphRepeats().chars(), p.text().length());
        }
    },
    /** Fraction of the text's characters covered by the most frequent word 2-gram. */
    TOP_2GRAM_CHARS {
        @Override
        public double of(TextProfile p) {
            return ratio(p.topNgramChars(2), p.text().length());
        }
    },
    /** Fraction of the text's characters covered by the most frequent word 3-gram. */
    TOP_3GRAM_CHARS {
        @Override
        public double of(TextProfile p) {
            return ratio(p.topNgramChars(3), p.text().length());
        }
    },
    /** Fraction of the text's characters covered by the most frequent word 4-gram. */
    TOP_4GRAM_CHARS {
        @Override
        public double of(TextProfile p) {
            return ratio(p.topNgramChars(4), p.text().length());
        }
    };

    private static final String[] BULLETS = {"•", "●", "○", "■", "□", "▪", "▫", "‣", "⁃", "◦", "➢", "►", "-", "*"};

    public abstract double of(TextProfile p);

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
}
