package dev.kiln.preprocess.dedup;

import dev.kiln.preprocess.lang.Words;

import java.util.Arrays;

/**
 * Shingle sets as sorted, distinct 64-bit hashes. Word shingles: n consecutive words as {@link Words#shingleTokens}
 * finds them: for spaced scripts a maximal run of letters and digits, for Chinese, Japanese, Thai and the other
 * unspaced scripts a dictionary word; case-folded (punctuation, spacing and case do not matter). Character shingles: n consecutive
 * characters of the case-folded text with whitespace runs collapsed to one space. A document shorter than n words
 * (or characters) has one shingle, itself; an empty one has none.
 */
public final class Shingles {
    private Shingles() {
    }

    /** The shingles {@code c} asks for: its n for spaced text, its {@code unspaced-ngram-size} for dictionary words. */
    public static long[] of(String text, MinHashConfig c) {
        return c.ngram() == MinHashConfig.Shingling.WORD ? words(text, c.ngramSize(), c.unspacedNgramSize()) : chars(text, c.ngramSize());
    }

    public static long[] of(String text, MinHashConfig.Shingling kind, int n) {
        return kind == MinHashConfig.Shingling.WORD ? words(text, n, n) : chars(text, n);
    }

    /** Word n-grams of {@code n} words, dictionary words included. */
    public static long[] words(String text, int n) {
        return words(text, n, n);
    }

    /**
     * Word n-grams: {@code n} words of spaced text, {@code unspacedN} dictionary words of text in an unspaced script
     * (a Chinese word is 1-2 characters, so fewer of them make a shingle as specific as n English words).
     */
    public static long[] words(String text, int n, int unspacedN) {
        Words.Tokens t = Words.shingleTokens(text);
        long[] tokens = t.hashes();
        int count = t.count();
        if (count == 0) {
            return new long[0];
        }
        if (t.segmentation() == Words.Segmentation.DICTIONARY) {
            n = unspacedN;
        }
        int shingles = Math.max(1, count - n + 1);
        long[] out = new long[shingles];
        for (int i = 0; i < shingles; i++) {
            long s = 0x9E3779B97F4A7C15L;
            for (int j = i, end = Math.min(count, i + n); j < end; j++) {
                s = mix(s * 31 + tokens[j]);
            }
            out[i] = s;
        }
        return sortedDistinct(out);
    }

    public static long[] chars(String text, int n) {
        String norm = TextHash.normalise(text);
        int len = norm.length();
        if (len == 0) {
            return new long[0];
        }
        if (len <= n) {
            long h = 0;
            for (int i = 0; i < len; i++) {
                h = h * 0x100000001B3L + norm.charAt(i);
            }
            return new long[]{mix(h)};
        }
        // Polynomial rolling hash over windows of n chars, finalised with a mixer.
        final long base = 0x100000001B3L;
        long pow = 1;
        for (int i = 1; i < n; i++) {
            pow *= base;
        }
        long[] out = new long[len - n + 1];
        long h = 0;
        for (int i = 0; i < n; i++) {
            h = h * base + norm.charAt(i);
        }
        out[0] = mix(h);
        for (int i = n; i < len; i++) {
            h = (h - norm.charAt(i - n) * pow) * base + norm.charAt(i);
            out[i - n + 1] = mix(h);
        }
        return sortedDistinct(out);
    }

    static long[] sortedDistinct(long[] a) {
        Arrays.sort(a);
        int w = 0;
        for (int i = 0; i < a.length; i++) {
            if (w == 0 || a[i] != a[w - 1]) {
                a[w++] = a[i];
            }
        }
        return w == a.length ? a : Arrays.copyOf(a, w);
    }

    static long mix(long k) {
        return Words.mix(k);
    }

    /** Exact Jaccard similarity of two sorted, distinct sets. */
    public static double jaccard(long[] a, long[] b) {
        if (a.length == 0 && b.length == 0) {
            return 1.0;
        }
        int i = 0;
        int j = 0;
        int inter = 0;
        while (i < a.length && j < b.length) {
            if (a[i] == b[j]) {
                inter++;
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        return (double) inter / (a.length + b.length - inter);
    }
}
