package dev.kiln.evaluate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code kiln.evaluate.per-source}: which group a document's source (a path, as {@code kiln tokenize} recorded it)
 * is reported under, and how many groups a report shows. Plain Java: the executors group, the driver caps.
 *
 * @param groupBy   folder (the source's parent folder), file (the whole source), pattern (the first capture group of
 *                  {@code pattern} found in the source; no match: {@link #UNMATCHED}) or none (one group, {@link #ALL})
 * @param pattern   the regular expression of {@code groupBy = pattern}, with at least one capture group; else ""
 * @param maxGroups groups shown per shard set: the largest by tokens; the rest are summed into {@link #OTHER}
 */
public record SourceGroups(GroupBy groupBy, String pattern, int maxGroups) implements Serializable {
    public static final String OTHER = "(other)";
    public static final String UNMATCHED = "(unmatched)";
    public static final String ALL = "(all)";
    public static final String NO_FOLDER = "(no folder)";

    public enum GroupBy {
        FOLDER, FILE, PATTERN, NONE;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SourceGroups {
        if (maxGroups < 1) {
            throw new IllegalArgumentException("max-groups must be >= 1, got " + maxGroups);
        }
        if (groupBy == GroupBy.PATTERN) {
            compile(pattern); // fails here, on the driver, not in a task
        }
    }

    /** The pattern compiled and checked: a syntax error or no capture group is an {@link IllegalArgumentException}. */
    static Pattern compile(String pattern) {
        Pattern p = Pattern.compile(pattern);
        if (p.matcher("").groupCount() < 1) {
            throw new IllegalArgumentException("expected a regular expression with a capture group (the group is the name), got \"" + pattern + "\"");
        }
        return p;
    }

    /** A grouper for one task (compiles the pattern once; not shared between threads). */
    public Grouper grouper() {
        Pattern p = groupBy == GroupBy.PATTERN ? compile(pattern) : null;
        return source -> switch (groupBy) {
            case FILE -> source;
            case FOLDER -> folder(source);
            case NONE -> ALL;
            case PATTERN -> {
                Matcher m = p.matcher(source);
                String g = m.find() ? m.group(1) : null;
                yield g == null ? UNMATCHED : g;
            }
        };
    }

    /** Maps a source to its group's name. */
    @FunctionalInterface
    public interface Grouper {
        String group(String source);
    }

    /** The parent folder of a path-like source: everything before its last '/' (a trailing '/' ignored). */
    static String folder(String source) {
        String s = source.endsWith("/") && source.length() > 1 ? source.substring(0, source.length() - 1) : source;
        int slash = s.lastIndexOf('/');
        if (slash < 0) {
            return NO_FOLDER;
        }
        return slash == 0 ? "/" : s.substring(0, slash);
    }

    /** The groups of one shard set, capped: what the report shows, and how many groups {@link #OTHER} sums. */
    public record Capped(Map<String, List<LmStats>> groups, int found, int folded) implements Serializable {
    }

    /**
     * Keeps the {@code maxGroups} groups with the most tokens (ties by name) and sums the rest, in name order, into
     * {@link #OTHER}. The result is ordered by name, {@link #OTHER} last. Every list holds one {@link LmStats} per scorer.
     */
    public Capped cap(Map<String, List<LmStats>> groups) {
        List<String> byTokens = new ArrayList<>(groups.keySet());
        byTokens.sort(Comparator.<String>comparingLong(g -> -groups.get(g).get(0).tokens()).thenComparing(Comparator.naturalOrder()));
        TreeMap<String, List<LmStats>> kept = new TreeMap<>();
        TreeMap<String, List<LmStats>> rest = new TreeMap<>();
        for (int i = 0; i < byTokens.size(); i++) {
            String g = byTokens.get(i);
            (i < maxGroups && !g.equals(OTHER) ? kept : rest).put(g, groups.get(g));
        }
        Map<String, List<LmStats>> out = new LinkedHashMap<>(kept);
        if (!rest.isEmpty()) {
            List<LmStats> sum = null;
            for (List<LmStats> stats : rest.values()) {
                sum = sum == null ? new ArrayList<>(stats) : plus(sum, stats);
            }
            out.put(OTHER, List.copyOf(sum));
        }
        return new Capped(out, groups.size(), rest.size());
    }

    /** Element-wise sum of two per-scorer lists. */
    static List<LmStats> plus(List<LmStats> a, List<LmStats> b) {
        List<LmStats> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            out.add(a.get(i).plus(b.get(i)));
        }
        return out;
    }
}
