package dev.kiln.preprocess.filter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the quality filters measure, computed once per document: words (whitespace-separated tokens), lines and
 * paragraphs (blocks separated by a blank line), each list in document order.
 */
public final class TextProfile {
    private final String text;
    private final List<String> words;
    private final List<String> lines;
    private List<String> paragraphs;

    public TextProfile(String text) {
        this.text = text;
        this.words = split(text);
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

    private static List<String> split(String text) {
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

    /** {count of elements that repeat an earlier one, total characters of those repeats} (Gopher's find_duplicates). */
    public static long[] duplicates(List<String> elements) {
        Map<String, Boolean> seen = new HashMap<>(elements.size() * 2);
        long count = 0;
        long chars = 0;
        for (String e : elements) {
            if (seen.putIfAbsent(e, Boolean.TRUE) != null) {
                count++;
                chars += e.length();
            }
        }
        return new long[]{count, chars};
    }

    /** Characters covered by the most frequent word n-gram (its length times its count), 0 when none repeats. */
    public long topNgramChars(int n) {
        if (words.size() < n) {
            return 0;
        }
        Map<String, Integer> counts = new HashMap<>();
        StringBuilder sb = new StringBuilder();
        int best = 0;
        String bestGram = null;
        for (int i = 0; i + n <= words.size(); i++) {
            sb.setLength(0);
            for (int j = 0; j < n; j++) {
                if (j > 0) {
                    sb.append(' ');
                }
                sb.append(words.get(i + j));
            }
            String gram = sb.toString();
            int c = counts.merge(gram, 1, Integer::sum);
            if (c > best || (c == best && bestGram != null && gram.length() > bestGram.length())) {
                best = c;
                bestGram = gram;
            }
        }
        return best > 1 ? (long) bestGram.length() * best : 0;
    }
}
