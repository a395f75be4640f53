package dev.kiln.preprocess;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;
import dev.kiln.preprocess.clean.CleanConfig;
import dev.kiln.preprocess.dedup.MinHashConfig;
import dev.kiln.preprocess.filter.FilterConfig;
import dev.kiln.preprocess.lang.LanguageConfig;
import dev.kiln.preprocess.read.InputConfig;

import java.io.Serializable;

/**
 * Everything {@code kiln preprocess} reads from {@code kiln.preprocess}, validated once before Spark starts.
 * Every key is documented and defaulted in this module's reference.conf.
 *
 * @param reprocess start the output over: process every input again and replace all earlier runs
 */
public record PreprocessConfig(InputConfig input, CleanConfig clean, LanguageConfig language, FilterConfig filter, DedupConfig dedup,
                               MinHashConfig minhash, OutputConfig output, boolean reprocess) implements Serializable {

    public static final String SECTION = "kiln.preprocess";

    public static PreprocessConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        InputConfig input = InputConfig.from(s.section("input"));
        CleanConfig clean = CleanConfig.from(s.section("clean"));
        LanguageConfig language = LanguageConfig.from(s.section("language"));
        FilterConfig filter = FilterConfig.from(s.section("filter"));
        s.require(language.enabled() || filter.languages().isEmpty(), "filter.languages",
                "needs language identification (kiln.preprocess.language.enabled = true)");
        DedupConfig dedup = DedupConfig.from(s.section("dedup"));
        MinHashConfig minhash = MinHashConfig.from(s.section("minhash"));
        OutputConfig output = OutputConfig.from(s.section("output"));
        return new PreprocessConfig(input, clean, language, filter, dedup, minhash, output, s.bool("reprocess"));
    }

    /** Which documents of a duplicate cluster are written. */
    public enum Keep { REPRESENTATIVES, ALL }

    public record DedupConfig(boolean exact, boolean near, Keep keep) implements Serializable {
        static DedupConfig from(Settings s) {
            return new DedupConfig(s.bool("exact"), s.bool("near"), s.enumValue("keep", Keep.class));
        }
    }

    public record OutputConfig(String path, int files, int removedSamplesPerReason) implements Serializable {
        static OutputConfig from(Settings s) {
            String path = s.string("path").trim();
            s.require(!path.isEmpty(), "path", "an output folder is required (e.g. -Dkiln.preprocess.output.path=out/preprocessed)");
            return new OutputConfig(path, s.nonNegativeInt("files"), s.intIn("removed-samples-per-reason", 0, 10_000));
        }
    }
}
