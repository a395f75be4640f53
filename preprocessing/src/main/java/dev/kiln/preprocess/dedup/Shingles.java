package dev.kiln.preprocess.dedup;

import java.util.Arrays;

/**
 * Shingle sets as sorted, distinct 64-bit hashes. Word shingles: n consecutive words, a word being a maximal run of
 * letters and digits, case-folded (punctuation, spacing and case do not matter). Character shingles: n consecutive
 * characters of the case-folded text with whitespace runs collapsed to one space. A document shorter than n words
 * (or characters) has one shingle, itself; an empty one has none.
 */
public final class Shingles {
    private Shingles() {
    }

    public static long[] of(String text, MinHashConfig.Shingling kind, int n) {
        return kind == MinHashConfig.Shingling.WORD ? words(text, n) : chars(text, n);
    }

    public static long[] words(String text, int n) {
        long[] tokens = new long[Math.max(16, text.length() / 5)];
        int count = 0;
        long h = 0;
        boolean inWord = false;
        for (int i = 0, len = text.length(); i < len; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetterOrDigit(cp)) {
                h = (h ^ Character.toLowerCase(cp)) * 0x100000001B3L; // FNV-1a over code points
                inWord = true;
            } else if (inWord) {
                if (count == tokens.length) {
                    tokens = Arrays.copyOf(tokens, count * 2);
                }
                tokens[count++] = mix(h);
                h = 0;
                inWord = false;
            }
        }
        if (inWord) {
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count + 1);
            }
            tokens[count++] = mix(h);
        }
        if (count == 0) {
            return new long[0];
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

    /** MurmurHash3's 64-bit finaliser: every input bit affects every output bit. */
    static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
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
