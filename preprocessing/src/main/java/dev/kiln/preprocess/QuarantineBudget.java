package dev.kiln.preprocess;

import java.util.List;
import java.util.Locale;

/** {@code kiln.preprocess.input.max-quarantined-fraction}: how much unreadable input a run tolerates. */
final class QuarantineBudget {
    static final String KEY = PreprocessConfig.SECTION + ".input.max-quarantined-fraction";

    private QuarantineBudget() {
    }

    /** True when {@code quarantined / (quarantined + documents)} is over {@code limit} (1.0 never is). */
    static boolean exceeded(long quarantined, long documents, double limit) {
        long records = quarantined + documents;
        return limit < 1.0 && records > 0 && (double) quarantined / records > limit;
    }

    static String message(long quarantined, long documents, double limit, List<String> examples) {
        return String.format(Locale.ROOT, "%d of %d input records (%.2f%%) were quarantined, over %s = %s; nothing was "
                        + "written. First ones: %s. Fix or remove those inputs, or raise the limit", quarantined,
                quarantined + documents, 100.0 * quarantined / (quarantined + documents), KEY, limit, examples);
    }
}
