package dev.kiln.tokenize.bpe;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.ObjLongConsumer;

/**
 * Counts pre-tokens: the executors' half of tokenizer training. Plain Java over any stream of texts; the Spark stage
 * runs one counter per partition and adds the partial counts together.
 *
 * <p>An open-addressing table looked up by the text region itself, so a pre-token seen before costs a hash and a
 * comparison, no substring and no boxed count (a {@code HashMap<String, Long>} spends most of its time allocating).
 */
public final class PreTokenCounts {
    private final PreTokenizer pre;
    private String[] keys = new String[1 << 14];
    private long[] counts = new long[1 << 14];
    private int size;

    public PreTokenCounts(PreTokenizer pre) {
        this.pre = pre;
    }

    /** Adds the pre-tokens of {@code text}. */
    public void add(String text) {
        int n = text.length();
        int i = 0;
        while (i < n) {
            int end = pre.end(text, i, n);
            increment(text, i, end);
            i = end;
        }
    }

    private void increment(String text, int start, int end) {
        int len = end - start;
        int h = 0;
        for (int k = start; k < end; k++) {
            h = 31 * h + text.charAt(k);
        }
        int mask = keys.length - 1;
        int slot = (h ^ (h >>> 16)) & mask;
        while (true) {
            String key = keys[slot];
            if (key == null) {
                keys[slot] = text.substring(start, end);
                counts[slot] = 1;
                if (++size * 2 > keys.length) {
                    grow();
                }
                return;
            }
            if (key.length() == len && key.regionMatches(0, text, start, len)) {
                counts[slot]++;
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    private void grow() {
        String[] oldKeys = keys;
        long[] oldCounts = counts;
        keys = new String[oldKeys.length * 2];
        counts = new long[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            String k = oldKeys[i];
            if (k != null) {
                int h = k.hashCode();
                int slot = (h ^ (h >>> 16)) & mask;
                while (keys[slot] != null) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = k;
                counts[slot] = oldCounts[i];
            }
        }
    }

    public int distinct() {
        return size;
    }

    /** Calls {@code sink} once per distinct pre-token with its count. */
    public void forEach(ObjLongConsumer<String> sink) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                sink.accept(keys[i], counts[i]);
            }
        }
    }

    public Map<String, Long> toMap() {
        Map<String, Long> m = new HashMap<>(size * 2);
        forEach(m::put);
        return m;
    }

    public static Map<String, Long> count(PreTokenizer pre, Iterator<String> texts) {
        PreTokenCounts c = new PreTokenCounts(pre);
        while (texts.hasNext()) {
            c.add(texts.next());
        }
        return c.toMap();
    }

    @Override
    public String toString() {
        return "PreTokenCounts[" + pre + ", " + size + " distinct]";
    }
}
