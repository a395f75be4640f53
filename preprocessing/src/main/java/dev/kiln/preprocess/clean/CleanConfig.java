package dev.kiln.preprocess.clean;

import dev.kiln.common.config.Settings;

import java.io.Serializable;

/** {@code kiln.preprocess.clean}: which cleaning steps run. */
public record CleanConfig(boolean htmlToText, boolean unicodeNfkc, boolean removeControlChars,
                          boolean normalizeWhitespace, boolean maskPii, boolean stripMailHeaders) implements Serializable {

    public static CleanConfig from(Settings s) {
        return new CleanConfig(s.bool("html-to-text"), s.bool("unicode-nfkc"), s.bool("remove-control-chars"),
                s.bool("normalize-whitespace"), s.bool("mask-pii"), s.bool("strip-mail-headers"));
    }
}
