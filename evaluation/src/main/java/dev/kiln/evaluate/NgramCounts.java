package dev.kiln.evaluate;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Unigram and bigram counts of a token stream, as the baselines score it: every document token is counted once as
 * a unigram and once as the bigram (previous, token), the previous token of a document's first token being
 * end-of-text (what the model conditions on too). End-of-text separators are contexts, never counted tokens.
 * Counts add ({@link #plus}), so executors count their shards and the driver merges.
 *
 * <p>Bigrams are kept as sorted keys {@code previous * V + token} with their counts: compact to ship and merge
 * (a linear merge), and searched by bisection when scoring.
 */
public final class NgramCounts implements Serializable {
    private final long[] unigrams;
    private final long tokens;
    private final long[] bigramKeys;
    private final long[] bigramCounts;

    NgramCounts(long[] unigrams, long tokens, long[] bigramKeys, long[] bigramCounts) {
        this.unigrams = unigrams;
        this.tokens = tokens;
        this.bigramKeys = bigramKeys;
        this.bigramCounts = bigramCounts;
    }

    public int vocabSize() {
        return unigrams.length;
    }

    /** c(w) per token id. */
    public long[] unigrams() {
        return unigrams;
    }

    /** Tokens counted (sum of the unigram counts). */
    public long tokens() {
        return tokens;
    }

    /** Distinct bigrams seen. */
    public int distinctBigrams() {
        return bigramKeys.length;
    }

    /** c(previous, token). */
    public long bigram(int previous, int token) {
        int i = Arrays.binarySearch(bigramKeys, key(previous, token));
        return i >= 0 ? bigramCounts[i] : 0;
    }

    long key(int previous, int token) {
        return (long) previous * unigrams.length + token;
    }

    long[] bigramKeys() {
        return bigramKeys;
    }

    long[] bigramCounts() {
        return bigramCounts;
    }

    public NgramCounts plus(NgramCounts o) {
        if (o.unigrams.length != unigrams.length) {
            throw new IllegalArgumentException("cannot add counts over vocabularies " + unigrams.length + " and " + o.unigrams.length);
        }
        long[] u = unigrams.clone();
        for (int i = 0; i < u.length; i++) {
            u[i] += o.unigrams[i];
        }
        long[] keys = new long[bigramKeys.length + o.bigramKeys.length];
        long[] counts = new long[keys.length];
        int a = 0;
        int b = 0;
        int n = 0;
        while (a < bigramKeys.length || b < o.bigramKeys.length) {
            if (b >= o.bigramKeys.length || (a < bigramKeys.length && bigramKeys[a] < o.bigramKeys[b])) {
                keys[n] = bigramKeys[a];
                counts[n++] = bigramCounts[a++];
            } else if (a >= bigramKeys.length || o.bigramKeys[b] < bigramKeys[a]) {
                keys[n] = o.bigramKeys[b];
                counts[n++] = o.bigramCounts[b++];
            } else {
                keys[n] = bigramKeys[a];
                counts[n++] = bigramCounts[a++] + o.bigramCounts[b++];
            }
        }
        return new NgramCounts(u, tokens + o.tokens, Arrays.copyOf(keys, n), Arrays.copyOf(counts, n));
    }

    public static NgramCounts empty(int vocabSize) {
        return new NgramCounts(new long[vocabSize], 0, new long[0], new long[0]);
    }

    /** Counts documents one at a time (an open-addressing table for the bigrams); {@link #counts()} freezes them. */
    public static final class Counter {
        private final int vocabSize;
        private final int endOfText;
        private final long[] unigrams;
        private long tokens;
        private long[] keys = new long[1 << 12];
        private long[] values = new long[1 << 12];
        private int size;

        public Counter(int vocabSize, int endOfText) {
            this.vocabSize = vocabSize;
            this.endOfText = endOfText;
            this.unigrams = new long[vocabSize];
            Arrays.fill(keys, -1);
        }

        public void addDocument(int[] document) {
            int previous = endOfText;
            for (int token : document) {
                unigrams[token]++;
                tokens++;
                increment((long) previous * vocabSize + token);
                previous = token;
            }
        }

        private void increment(long key) {
            if (2 * (size + 1) > keys.length) {
                grow();
            }
            int mask = keys.length - 1;
            int i = (int) (mix(key) & mask);
            while (keys[i] != -1 && keys[i] != key) {
                i = (i + 1) & mask;
            }
            if (keys[i] == -1) {
                keys[i] = key;
                size++;
            }
            values[i]++;
        }

        private void grow() {
            long[] oldKeys = keys;
            long[] oldValues = values;
            keys = new long[oldKeys.length * 2];
            values = new long[oldKeys.length * 2];
            Arrays.fill(keys, -1);
            int mask = keys.length - 1;
            for (int j = 0; j < oldKeys.length; j++) {
                if (oldKeys[j] != -1) {
                    int i = (int) (mix(oldKeys[j]) & mask);
                    while (keys[i] != -1) {
                        i = (i + 1) & mask;
                    }
                    keys[i] = oldKeys[j];
                    values[i] = oldValues[j];
                }
            }
        }

        private static long mix(long k) {
            k *= 0x9E3779B97F4A7C15L;
            return k ^ (k >>> 29);
        }

        public NgramCounts counts() {
            long[][] pairs = new long[size][];
            int n = 0;
            for (int i = 0; i < keys.length; i++) {
                if (keys[i] != -1) {
                    pairs[n++] = new long[]{keys[i], values[i]};
                }
            }
            Arrays.sort(pairs, (x, y) -> Long.compare(x[0], y[0]));
            long[] k = new long[n];
            long[] v = new long[n];
            for (int i = 0; i < n; i++) {
                k[i] = pairs[i][0];
                v[i] = pairs[i][1];
            }
            return new NgramCounts(unigrams.clone(), tokens, k, v);
        }
    }
}
