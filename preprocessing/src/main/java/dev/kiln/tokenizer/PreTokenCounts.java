package dev.kiln.tokenizer;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Counts pre-tokens: the executors' half of tokenizer training. Plain Java over any stream of texts; the Spark
 * stage ({@link TokenizerTraining}) runs it per partition and adds the partial maps together.
 */
public final class PreTokenCounts {
    private PreTokenCounts() {
    }

    /** Adds the pre-tokens of {@code text} to {@code counts}. */
    public static void add(PreTokenizer pre, String text, Map<String, Long> counts) {
        int i = 0;
        int n = text.length();
        while (i < n) {
            int end = pre.end(text, i, n);
            counts.merge(text.substring(i, end), 1L, Long::sum);
            i = end;
        }
    }

    public static Map<String, Long> count(PreTokenizer pre, Iterator<String> texts) {
        Map<String, Long> counts = new HashMap<>();
        while (texts.hasNext()) {
            add(pre, texts.next(), counts);
        }
        return counts;
    }
}
