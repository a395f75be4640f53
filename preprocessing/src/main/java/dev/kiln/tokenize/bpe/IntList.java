package dev.kiln.tokenize.bpe;

import java.util.Arrays;

/** A growable {@code int} array: token ids without boxing. */
public final class IntList {
    private int[] a;
    private int size;

    public IntList() {
        this(16);
    }

    public IntList(int capacity) {
        a = new int[Math.max(1, capacity)];
    }

    public void add(int v) {
        if (size == a.length) {
            a = Arrays.copyOf(a, a.length * 2);
        }
        a[size++] = v;
    }

    public void addAll(int[] values, int from, int to) {
        int n = to - from;
        if (size + n > a.length) {
            a = Arrays.copyOf(a, Math.max(a.length * 2, size + n));
        }
        System.arraycopy(values, from, a, size, n);
        size += n;
    }

    public int get(int i) {
        if (i >= size) {
            throw new IndexOutOfBoundsException(i + " >= " + size);
        }
        return a[i];
    }

    public int size() {
        return size;
    }

    public void clear() {
        size = 0;
    }

    /** The backing array (valid up to {@link #size()}), for bulk copies without an intermediate array. */
    public int[] array() {
        return a;
    }

    public int[] toArray() {
        return Arrays.copyOf(a, size);
    }
}
