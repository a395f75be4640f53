package dev.kiln.tokenize.bpe;

/**
 * Splits text into pre-tokens (BPE never merges across them) exactly as the GPT-2 or the GPT-4 (cl100k) regular
 * expression does under Hugging Face tokenizers' Oniguruma engine, but with a hand-written scanner: a regex engine
 * costs more than the whole BPE step once pre-tokens are cached. {@link #regex()} is the pattern written into
 * {@code tokenizer.json}; tests check the scanner against {@code java.util.regex} on random text and the whole
 * tokenizer against Hugging Face's own implementation.
 *
 * <p>Character classes are Unicode's: letters {@code \p{L}}, numbers {@code \p{N}}, white space {@code \s} = the
 * White_Space property. Works on UTF-16 with surrogate pairs read as one code point.
 */
public enum PreTokenizer {
    /** GPT-2: {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}. */
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"),
    /** GPT-4 / cl100k: case-insensitive contractions, a letter run may take one leading non-letter, numbers in threes. */
    GPT4("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    private final String regex;

    PreTokenizer(String regex) {
        this.regex = regex;
    }

    public String regex() {
        return regex;
    }

    // Character classes of the ASCII range, looked up instead of computed: almost all text is mostly ASCII.
    private static final byte OTHER = 0, LETTER = 1, NUMBER = 2, SPACE = 3, NEWLINE = 4;
    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII[c] = Character.isLetter(c) ? LETTER : Character.isDigit(c) ? NUMBER : OTHER;
        }
        for (char c : new char[]{'\t', 0x0B, '\f', ' '}) {
            ASCII[c] = SPACE;
        }
        ASCII['\r'] = NEWLINE;
        ASCII['\n'] = NEWLINE;
    }

    private static int kind(int cp) {
        if (cp < 128) {
            return ASCII[cp];
        }
        if (isWhiteSpace(cp)) {
            return SPACE;
        }
        if (Character.isLetter(cp)) {
            return LETTER;
        }
        int type = Character.getType(cp);
        if (type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER) {
            return NUMBER;
        }
        return OTHER;
    }

    /** Unicode White_Space (what {@code \s} means for Oniguruma and for Java with UNICODE_CHARACTER_CLASS). */
    static boolean isWhiteSpace(int cp) {
        if (cp < 128) {
            return ASCII[cp] == SPACE || ASCII[cp] == NEWLINE;
        }
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029
                || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    private static int cpAt(CharSequence s, int i, int limit) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < limit) {
            char d = s.charAt(i + 1);
            if (Character.isLowSurrogate(d)) {
                return Character.toCodePoint(c, d);
            }
        }
        return c;
    }

    private static int width(int cp) {
        return cp >= 0x10000 ? 2 : 1;
    }

    /** Kind of the code point at i, or -1 at the limit. */
    private static int kindAt(CharSequence s, int i, int limit) {
        if (i >= limit) {
            return -1;
        }
        char c = s.charAt(i);
        return c < 128 ? ASCII[c] : kind(cpAt(s, i, limit));
    }

    private static int next(CharSequence s, int i, int limit) {
        char c = s.charAt(i);
        return c < 128 ? i + 1 : i + width(cpAt(s, i, limit));
    }

    /** End (exclusive) of the pre-token starting at {@code start < limit}. */
    public int end(CharSequence s, int start, int limit) {
        return this == GPT4 ? endGpt4(s, start, limit) : endGpt2(s, start, limit);
    }

    private static int skip(CharSequence s, int i, int limit, int kind) {
        while (i < limit && kindAt(s, i, limit) == kind) {
            i = next(s, i, limit);
        }
        return i;
    }

    /** Skips [^\s\p{L}\p{N}]+. */
    private static int skipOther(CharSequence s, int i, int limit) {
        return skip(s, i, limit, OTHER);
    }

    private static int skipSpace(CharSequence s, int i, int limit) {
        while (i < limit) {
            int k = kindAt(s, i, limit);
            if (k != SPACE && k != NEWLINE) {
                break;
            }
            i = next(s, i, limit);
        }
        return i;
    }

    private static int contraction(CharSequence s, int i, int limit, boolean ignoreCase) {
        if (s.charAt(i) != '\'' || i + 1 >= limit) {
            return -1;
        }
        char a = s.charAt(i + 1);
        char b = i + 2 < limit ? s.charAt(i + 2) : 0;
        if (ignoreCase) {
            a = fold(a);
            b = fold(b);
        }
        switch (a) {
            case 's', 't', 'm', 'd':
                return i + 2;
            case 'r':
                return b == 'e' ? i + 3 : -1;
            case 'v':
                return b == 'e' ? i + 3 : -1;
            case 'l':
                return b == 'l' ? i + 3 : -1;
            default:
                return -1;
        }
    }

    /** Simple case folding for the letters of the contractions; U+017F (long s) folds to s. */
    private static char fold(char c) {
        return c == 0x17F ? 's' : c < 128 ? Character.toLowerCase(c) : c;
    }

    /** The alternatives \s+(?!\S)|\s+ starting on white space at i. */
    private static int trailingSpace(CharSequence s, int i, int limit) {
        int j = skipSpace(s, i, limit);
        if (j == limit) {
            return j;
        }
        // Leave the last white-space character to prefix the next word, unless the run is one character long.
        int last = j - 1;
        if (last > i && Character.isLowSurrogate(s.charAt(last)) && Character.isHighSurrogate(s.charAt(last - 1))) {
            last--;
        }
        return last > i ? last : j;
    }

    private static int endGpt2(CharSequence s, int i, int limit) {
        int c = contraction(s, i, limit, false);
        if (c > 0) {
            return c;
        }
        int k = kindAt(s, i, limit);
        int j = i;
        if (s.charAt(i) == ' ') {
            int k2 = kindAt(s, i + 1, limit);
            if (k2 == LETTER || k2 == NUMBER || k2 == OTHER) {
                j = i + 1;
                k = k2;
            }
        }
        switch (k) {
            case LETTER:
                return skip(s, j, limit, LETTER);
            case NUMBER:
                return skip(s, j, limit, NUMBER);
            case OTHER:
                return skipOther(s, j, limit);
            default:
                return trailingSpace(s, i, limit);
        }
    }

    private static int endGpt4(CharSequence s, int i, int limit) {
        int c = contraction(s, i, limit, true);
        if (c > 0) {
            return c;
        }
        int k = kindAt(s, i, limit);
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (k == LETTER) {
            return skip(s, i, limit, LETTER);
        }
        if ((k == OTHER || k == SPACE) && kindAt(s, next(s, i, limit), limit) == LETTER) {
            return skip(s, next(s, i, limit), limit, LETTER);
        }
        // \p{N}{1,3}
        if (k == NUMBER) {
            int j = next(s, i, limit);
            for (int n = 1; n < 3 && kindAt(s, j, limit) == NUMBER; n++) {
                j = next(s, j, limit);
            }
            return j;
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        int j = s.charAt(i) == ' ' && kindAt(s, i + 1, limit) == OTHER ? i + 1 : i;
        if (kindAt(s, j, limit) == OTHER) {
            j = skipOther(s, j, limit);
            return skip(s, j, limit, NEWLINE);
        }
        // \s*[\r\n]+ : the white-space run up to and including its last CR/LF, when it has one.
        int runEnd = skipSpace(s, i, limit);
        for (int p = runEnd - 1; p >= i; p--) {
            char ch = s.charAt(p);
            if (ch == '\r' || ch == '\n') {
                return p + 1;
            }
        }
        // \s+(?!\S)|\s+
        return trailingSpace(s, i, limit);
    }
}
