package dev.kiln.evaluate.text;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * sacreBLEU's default tokenizer, {@code 13a} (mteval-v13a.pl's), rule for rule: drop {@code <skipped>}, join lines
 * broken at a hyphen, newlines to spaces, unescape {@code &quot; &amp; &lt; &gt;}, then pad the line with a space on
 * each side and apply four regex substitutions in order before splitting on whitespace:
 * <ol>
 *   <li>ASCII punctuation and symbols except {@code ' , - .} get a space on each side
 *       ({@code [\{-\~\[-\` -\&\(-\+\:-\@\/]});</li>
 *   <li>a period or comma not preceded by a digit is split off;</li>
 *   <li>a period or comma not followed by a digit is split off;</li>
 *   <li>a hyphen after a digit is split off (other hyphens stay inside words).</li>
 * </ol>
 * So "3.5" and "1,000" stay whole, "end." becomes "end ." and "state-of-the-art" stays one token.
 */
public final class Tokenizer13a {
    // Java's replaceAll, like Python's re.sub, replaces non-overlapping matches left to right.
    private static final Pattern SYMBOLS = Pattern.compile("([\\x7B-\\x7E\\x5B-\\x60\\x20-\\x26\\x28-\\x2B\\x3A-\\x40/])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Tokenizer13a() {
    }

    /** The tokenized line, tokens joined by single spaces (what sacreBLEU's tokenizer returns). */
    public static String tokenize(String line) {
        return String.join(" ", tokens(line));
    }

    /** The tokens of a line. */
    public static List<String> tokens(String line) {
        line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (line.indexOf('&') >= 0) {
            line = line.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        line = " " + line + " ";
        line = SYMBOLS.matcher(line).replaceAll(" $1 ");
        line = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
        line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
        return splitPythonWhitespace(line);
    }

    /** Python's {@code str.split()}: runs of whitespace as {@code str.isspace} defines it, no empty tokens. */
    static List<String> splitPythonWhitespace(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); i++) {
            if (isPythonSpace(s.charAt(i))) {
                if (start >= 0) {
                    out.add(s.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
        }
        if (start >= 0) {
            out.add(s.substring(start));
        }
        return out;
    }

    /**
     * Python's {@code str.isspace} for one UTF-16 unit: ASCII whitespace and the separators U+001C..U+001F, NEL,
     * and every Unicode space separator (Zs, including no-break spaces), line and paragraph separator. Java's
     * {@code Character.isWhitespace} alone misses the no-break spaces, {@code isSpaceChar} alone misses the controls.
     */
    static boolean isPythonSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }
}
