package dev.kiln.testing;

import com.typesafe.config.Config;
import dev.kiln.config.KilnConfig;
import dev.kiln.preprocess.PreprocessConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/** Builds a PreprocessConfig the way the job does (reference.conf + overrides), for tests and benchmarks. */
public final class PreprocessRuns {
    private PreprocessRuns() {
    }

    /** {@code overrides} are alternating keys (relative to kiln.preprocess) and values. */
    public static PreprocessConfig config(String... overrides) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < overrides.length; i += 2) {
            m.put(PreprocessConfig.SECTION + "." + overrides[i], overrides[i + 1]);
        }
        Config c = KilnConfig.load(null, m);
        return PreprocessConfig.from(c);
    }
}
