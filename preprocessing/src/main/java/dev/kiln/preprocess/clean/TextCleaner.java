package dev.kiln.preprocess.clean;

import java.io.Serializable;
import java.text.Normalizer;

/**
 * The cleaning steps, each switched by {@link CleanConfig}, applied in a fixed order: HTML to text, NFKC,
 * control-character removal, whitespace normalisation, PII masking (last, so it sees the final spacing).
 */
public final class TextCleaner implements Serializable {
    private final CleanConfig config;

    public TextCleaner(CleanConfig config) {
        this.config = config;
    }

    public String clean(String text) {
        String s = text;
        if (config.htmlToText() && HtmlText.looksLikeHtml(s)) {
            s = HtmlText.toText(s);
        }
        if (config.unicodeNfkc() && !Normalizer.isNormalized(s, Normalizer.Form.NFKC)) {
            s = Normalizer.normalize(s, Normalizer.Form.NFKC);
        }
        if (config.removeControlChars()) {
            s = removeControlChars(s);
        }
        if (config.normalizeWhitespace()) {
            s = normalizeWhitespace(s);
        }
        if (config.maskPii()) {
            s = PiiMasker.mask(s);
        }
        return s;
    }

    /**
     * Drops C0/C1 controls except LF, CR and tab, format characters (zero-width spaces and joiners, BOM, bidi marks),
     * unpaired surrogates, noncharacters and U+FFFD (a decoding failure upstream, never content).
     */
    public static String removeControlChars(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean drop;
            int width = 1;
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(i + 1));
                    width = 2;
                    drop = Character.getType(cp) == Character.FORMAT || (cp & 0xFFFE) == 0xFFFE;
                } else {
                    drop = true;
                }
            } else if (Character.isLowSurrogate(c)) {
                drop = true;
            } else if (c == '\n' || c == '\t' || c == '\r') {
                drop = false;
            } else {
                int type = Character.getType(c);
                drop = type == Character.CONTROL || type == Character.FORMAT || c == '\uFFFD' || c == '\uFFFE' || c == '\uFFFF'
                        || (c >= '\uFDD0' && c <= '\uFDEF');
            }
            if (drop && out == null) {
                out = new StringBuilder(s.length());
                out.append(s, 0, i);
            }
            if (!drop && out != null) {
                out.append(s, i, i + width);
            }
            i += width - 1;
        }
        return out == null ? s : out.toString();
    }

    /**
     * CRLF and CR to LF; any run of horizontal whitespace (tabs, no-break and other Unicode spaces) to one space;
     * lines trimmed; runs of blank lines to a single blank line (a paragraph break); the document trimmed.
     */
    public static String normalizeWhitespace(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int newlines = 0;      // pending line breaks not yet written
        boolean space = false; // pending space not yet written
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    continue;
                }
                c = '\n';
            }
            if (c == '\n' || c == '\u2028' || c == '\u2029' || c == '\u000B' || c == '\u000C' || c == '\u0085') {
                newlines++;
                space = false;
            } else if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                space = true;
            } else {
                if (out.length() > 0) {
                    if (newlines > 0) {
                        out.append(newlines > 1 ? "\n\n" : "\n");
                    } else if (space) {
                        out.append(' ');
                    }
                }
                newlines = 0;
                space = false;
                out.append(c);
            }
        }
        return out.toString();
    }
}
