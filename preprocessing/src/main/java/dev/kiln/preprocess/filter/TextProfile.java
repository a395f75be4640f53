package dev.kiln.preprocess.filter;

import dev.kiln.preprocess.lang.Words;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the quality filters measure, computed once per document: words ({@link Words}: whitespace-separated tokens, or
 * dictionary words for Chinese, Japanese, Thai and the other unspaced scripts), lines and
 * paragraphs (blocks separated by a blank line), each list in document order. Not thread-safe: the lazy parts are
 * filled on first use.
 */
public final class TextProfile {
    private final String text;
    private final Words.Segmentation segmentation;
    private final List<String> words;
    private final List<String> lines;
    private List<String> paragraphs;
    private int[] wordIds;
    private Repeats lineRepeats;
    private Repeats paragraphRepeats;

    public TextProfile(String text) {
        this.text = text;
        this.segmentation = Words.segmentationOf(text);
        this.words = Words.of(text, segmentation);
        this.lines = new ArrayList<>();
        for (String l : text.split("\n")) {
            if (!l.isBlank()) {
                lines.add(l.strip());
            }
        }
    }

    public String text() {
        return text;
    }

    /** How {@link #words()} were found: whitespace tokens, or dictionary words for unspaced scripts. */
    public Words.Segmentation segmentation() {
        return segmentation;
    }

    public List<String> words() {
        return words;
    }

    public List<String> lines() {
        return lines;
    }

    public List<String> paragraphs() {
        if (paragraphs == null) {
            paragraphs = new ArrayList<>();
            for (String p : text.split("\n\\s*\n")) {
                if (!p.isBlank()) {
                    paragraphs.add(p.strip());
                }
            }
        }
        return paragraphs;
    }

    /** Elements that repeat an earlier one: how many, and their characters in total (Gopher's find_duplicates). */
    public record Repeats(long count, long chars) {
    }

    /** Repeats among {@link #lines()}. */
    public Repeats lineRepeats() {
        if (lineRepeats == null) {
            lineRepeats = repeats(lines);
        }
        return lineRepeats;
    }

    /** Repeats among {@link #paragraphs()}. */
    public Repeats paragraphRepeats() {
        if (paragraphRepeats == null) {
            paragraphRepeats = repeats(paragraphs());
        }
        return paragraphRepeats;
    }

    static Repeats repeats(List<String> elements) {
        Map<String, Boolean> seen = new HashMap<>(elements.size() * 2);
        long count = 0;
        long chars = 0;
        for (String e : elements) {
            if (seen.putIfAbsent(e, Boolean.TRUE) != null) {
                count++;
                chars += e.length();
            }
        }
        return new Repeats(count, chars);
    }

    /**
     * Characters covered by the most frequent word n-gram (its length, words joined by one space, or by nothing for
     * dictionary-segmented text, times its count),
     * 0 when none repeats. N-grams are keyed by a 64-bit hash of their words' ids, not by building strings.
     */
    public long topNgramChars(int n) {
        if (words.size() < n) {
            return 0;
        }
        if (wordIds == null) {
            Map<String, Integer> ids = new HashMap<>(words.size());
            wordIds = new int[words.size()];
            for (int i = 0; i < wordIds.length; i++) {
                wordIds[i] = ids.computeIfAbsent(words.get(i), w -> ids.size());
            }
        }
        Map<Long, int[]> counts = new HashMap<>(words.size() * 2);
        int best = 0;
        int bestLength = 0;
        for (int i = 0; i + n <= wordIds.length; i++) {
            long key = 0;
            int length = segmentation == Words.Segmentation.SPACED ? n - 1 : 0;
            for (int j = i; j < i + n; j++) {
                key = key * 0x9E3779B97F4A7C15L + wordIds[j] + 1;
                length += words.get(j).length();
            }
            int[] c = counts.computeIfAbsent(key, k -> new int[1]);
            c[0]++;
            if (c[0] > best || (c[0] == best && length > bestLength)) {
                best = c[0];
                bestLength = length;
            }
        }
        return best > 1 ? (long) bestLength * best : 0;
    }
}
