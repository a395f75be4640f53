package dev.kiln.preprocess.lang;

import com.ibm.icu.text.BreakIterator;
import com.ibm.icu.util.ULocale;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How Kiln cuts a text into words, for the quality filters ({@link #of}) and the near-duplicate shingles
 * ({@link #shingleTokens}); one decision per document ({@link #segmentationOf}):
 * <ul>
 *   <li>{@link Segmentation#SPACED} (English and every script that separates words by spaces): exactly what Kiln
 *       always did, so results on such corpora do not change: the filters' words are whitespace-separated tokens
 *       (punctuation stays attached, as in Gopher), the shingles' words are maximal runs of letters and digits.</li>
 *   <li>{@link Segmentation#DICTIONARY} (a text where at least {@link #UNSPACED_SHARE} of the letters are Han, kana,
 *       Thai, Lao, Khmer or Myanmar): ICU's word {@link BreakIterator}, which follows Unicode word boundaries (UAX #29)
 *       and segments runs of those scripts with its dictionaries (Chinese/Japanese, Thai, Lao, Khmer, Burmese); a word
 *       is a segment holding a letter, digit, kana or ideograph, so punctuation and spaces are not words. Mixed text
 *       (Chinese with English words and numbers) gets both rules in one pass.</li>
 * </ul>
 */
public final class Words {
    /** Share of a text's letters in unspaced scripts from which it is segmented with the dictionaries. */
    public static final double UNSPACED_SHARE = 0.1;

    /** How a document's words were found. */
    public enum Segmentation { SPACED, DICTIONARY }

    /** ICU break iterators are costly to build and not thread-safe: one per thread, cloned from a prototype. */
    private static final BreakIterator PROTOTYPE = BreakIterator.getWordInstance(ULocale.ROOT);
    private static final ThreadLocal<BreakIterator> ITERATOR = ThreadLocal.withInitial(() -> (BreakIterator) PROTOTYPE.clone());

    private Words() {
    }

    /** Whether {@code cp} belongs to a script written without spaces between words. */
    public static boolean isUnspaced(int cp) {
        Character.UnicodeScript s = Character.UnicodeScript.of(cp);
        return s == Character.UnicodeScript.HAN || s == Character.UnicodeScript.HIRAGANA || s == Character.UnicodeScript.KATAKANA
                || s == Character.UnicodeScript.THAI || s == Character.UnicodeScript.LAO || s == Character.UnicodeScript.KHMER
                || s == Character.UnicodeScript.MYANMAR;
    }

    /** {@link Segmentation#DICTIONARY} when at least {@link #UNSPACED_SHARE} of the letters are in unspaced scripts. */
    public static Segmentation segmentationOf(String text) {
        long letters = 0;
        long unspaced = 0;
        for (int i = 0, len = text.length(); i < len; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetter(cp)) {
                letters++;
                if (cp >= 0x0E00 && isUnspaced(cp)) { // every unspaced script lies above U+0E00 (Thai)
                    unspaced++;
                }
            }
        }
        return letters > 0 && unspaced >= UNSPACED_SHARE * letters ? Segmentation.DICTIONARY : Segmentation.SPACED;
    }

    /** The filters' words of {@code text}, in order, segmented as {@code segmentation} says. */
    public static List<String> of(String text, Segmentation segmentation) {
        return segmentation == Segmentation.SPACED ? whitespaceTokens(text) : dictionaryWords(text);
    }

    /** Whitespace-separated tokens (Gopher's words for spaced scripts). */
    static List<String> whitespaceTokens(String text) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                if (start >= 0) {
                    out.add(text.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
        }
        if (start >= 0) {
            out.add(text.substring(start));
        }
        return out;
    }

    /** ICU word segments that hold a letter, number, kana or ideograph (rule status >= WORD_NUMBER). */
    static List<String> dictionaryWords(String text) {
        List<String> out = new ArrayList<>();
        BreakIterator it = ITERATOR.get();
        it.setText(text);
        int start = it.first();
        for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
            if (it.getRuleStatus() >= BreakIterator.WORD_NUMBER) {
                out.add(text.substring(start, end));
            }
        }
        it.setText("");
        return out;
    }

    /** A text's shingle words as hashes: the first {@code count} entries of {@code hashes}. */
    public record Tokens(long[] hashes, int count, Segmentation segmentation) {
    }

    /**
     * The shingles' words of {@code text} as 64-bit hashes of their case-folded code points, in order: maximal runs
     * of letters and digits for spaced text, {@link #dictionaryWords} for text in unspaced scripts.
     */
    public static Tokens shingleTokens(String text) {
        if (segmentationOf(text) == Segmentation.DICTIONARY) {
            List<String> words = dictionaryWords(text);
            long[] tokens = new long[words.size()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = hashFolded(words.get(i));
            }
            return new Tokens(tokens, tokens.length, Segmentation.DICTIONARY);
        }
        int[] count = new int[1];
        long[] tokens = letterDigitRuns(text, count);
        return new Tokens(tokens, count[0], Segmentation.SPACED);
    }

    private static long hashFolded(String word) {
        long h = 0;
        for (int i = 0, len = word.length(); i < len; ) {
            int cp = word.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                h = (h ^ Character.toLowerCase(cp)) * 0x100000001B3L;
            }
        }
        return mix(h);
    }

    /** Maximal runs of letters and digits, each hashed with FNV-1a over its case-folded code points. */
    private static long[] letterDigitRuns(String text, int[] count) {
        long[] tokens = new long[Math.max(16, text.length() / 5)];
        int n = 0;
        long h = 0;
        boolean inWord = false;
        for (int i = 0, len = text.length(); i < len; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                h = (h ^ Character.toLowerCase(cp)) * 0x100000001B3L; // FNV-1a over code points
                inWord = true;
            } else if (inWord) {
                if (n == tokens.length) {
                    tokens = Arrays.copyOf(tokens, n * 2);
                }
                tokens[n++] = mix(h);
                h = 0;
                inWord = false;
            }
        }
        if (inWord) {
            if (n == tokens.length) {
                tokens = Arrays.copyOf(tokens, n + 1);
            }
            tokens[n++] = mix(h);
        }
        count[0] = n;
        return tokens;
    }

    /** MurmurHash3's 64-bit finaliser: every input bit affects every output bit. */
    public static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
