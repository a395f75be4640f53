package dev.kiln.preprocess;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code kiln.preprocess.filter.max-dropped-fraction}: how much of the documents read cleaning and the filters may
 * remove before the run is refused. Duplicates are not counted: a corpus that is half copies is still a good corpus.
 */
final class DropBudget {
    static final String KEY = PreprocessConfig.SECTION + ".filter.max-dropped-fraction";
    /** How many drop reasons the message lists, the largest first. */
    static final int TOP_REASONS = 5;

    private DropBudget() {
    }

    /**
     * True when documents were read and none is kept, or when {@code dropped / read} is over {@code limit};
     * {@code limit = 1.0} never is (the check is off).
     */
    static boolean exceeded(long dropped, long read, double limit) {
        if (limit >= 1.0 || read == 0) {
            return false;
        }
        return dropped == read || (double) dropped / read > limit;
    }

    /** The refusal: counts, the limit's key and the largest drop reasons with their counts. */
    static String message(long dropped, long read, double limit, Map<String, Long> byReason) {
        List<Map.Entry<String, Long>> top = byReason.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
                .limit(TOP_REASONS).toList();
        String reasons = top.stream().map(e -> String.format(Locale.ROOT, "%s %d (%.1f%%)", e.getKey(), e.getValue(),
                100.0 * e.getValue() / read)).collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "cleaning and the filters removed %d of the %d documents read (%.2f%%; %d kept), over "
                        + "%s = %s; nothing was written. Top drop reasons: %s. Look at the data and the settings these reasons "
                        + "name (kiln.preprocess.filter.*: thresholds, languages; the input's text field), or raise the limit "
                        + "(1.0 = off)", dropped, read, 100.0 * dropped / read, read - dropped, KEY, limit, reasons);
    }
}
