package dev.kiln.preprocess.lang;

import dev.kiln.common.config.Settings;

import java.io.Serializable;

/**
 * {@code kiln.preprocess.language}: language identification of each document after cleaning.
 *
 * @param maxChars how many characters (the first) of a document the model reads; 0: all
 */
public record LanguageConfig(boolean enabled, int maxChars) implements Serializable {
    public static LanguageConfig from(Settings s) {
        return new LanguageConfig(s.bool("enabled"), s.intIn("max-chars", 0, Integer.MAX_VALUE));
    }
}
