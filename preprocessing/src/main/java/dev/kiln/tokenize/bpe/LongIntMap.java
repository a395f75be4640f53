package dev.kiln.tokenize.bpe;

import java.util.Arrays;

/** Open-addressing map from non-negative {@code long} keys (token pairs) to {@code int}; no boxing on lookups. */
final class LongIntMap {
    private static final long FREE = -1L;
    private long[] keys;
    private int[] values;
    private int mask;
    private int size;

    LongIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[cap];
        Arrays.fill(keys, FREE);
        values = new int[cap];
        mask = cap - 1;
    }

    static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    /** The value for key, or {@code missing}. */
    int get(long key, int missing) {
        int i = slot(key, mask);
        while (true) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == FREE) {
                return missing;
            }
            i = (i + 1) & mask;
        }
    }

    void put(long key, int value) {
        if (key < 0) {
            throw new IllegalArgumentException("negative key");
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int i = slot(key, mask);
        while (keys[i] != FREE && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == FREE) {
            size++;
        }
        keys[i] = key;
        values[i] = value;
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        Arrays.fill(keys, FREE);
        values = new int[oldKeys.length * 2];
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != FREE) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }
}
