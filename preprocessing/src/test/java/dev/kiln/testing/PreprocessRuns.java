package dev.kiln.testing;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Settings;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.clean.CleanConfig;
import dev.kiln.preprocess.dedup.MinHashConfig;
import dev.kiln.preprocess.filter.FilterConfig;
import dev.kiln.preprocess.read.InputConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds configs the way the job does (reference.conf + overrides), for tests and benchmarks: the defaults live in
 * reference.conf only, never in a second copy here.
 */
public final class PreprocessRuns {
    private PreprocessRuns() {
    }

    /** {@code overrides} are alternating keys (relative to kiln.preprocess) and values. */
    public static PreprocessConfig config(String... overrides) {
        return PreprocessConfig.from(load(overrides));
    }

    /** {@code kiln.preprocess.filter} from reference.conf; overrides relative to that section (e.g. "min-words", "10"). */
    public static FilterConfig filter(String... overrides) {
        return FilterConfig.from(section("filter", overrides));
    }

    /** {@code kiln.preprocess.clean} from reference.conf; overrides relative to that section (e.g. "mask-pii", "true"). */
    public static CleanConfig clean(String... overrides) {
        return CleanConfig.from(section("clean", overrides));
    }

    /** {@code kiln.preprocess.minhash} from reference.conf; overrides relative to that section. */
    public static MinHashConfig minhash(String... overrides) {
        return MinHashConfig.from(section("minhash", overrides));
    }

    /** {@code kiln.preprocess.input} from reference.conf reading {@code path}; overrides relative to that section. */
    public static InputConfig input(String path, String... overrides) {
        String[] all = new String[overrides.length + 2];
        all[0] = "paths";
        all[1] = "[\"" + path.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]";
        System.arraycopy(overrides, 0, all, 2, overrides.length);
        return InputConfig.from(section("input", all));
    }

    private static Settings section(String name, String... overrides) {
        String[] prefixed = new String[overrides.length];
        for (int i = 0; i < overrides.length; i++) {
            prefixed[i] = i % 2 == 0 ? name + "." + overrides[i] : overrides[i];
        }
        return new Settings(load(prefixed), PreprocessConfig.SECTION).section(name);
    }

    private static Config load(String... overrides) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < overrides.length; i += 2) {
            m.put(PreprocessConfig.SECTION + "." + overrides[i], overrides[i + 1]);
        }
        return KilnConfig.load(null, m);
    }
}
