package dev.kiln.preprocess.filter;

import dev.kiln.common.config.Settings;
import dev.kiln.preprocess.lang.LanguageId;
import dev.kiln.preprocess.lang.Words;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code kiln.preprocess.filter}: the quality filters' thresholds (Gopher's published values are the defaults, in
 * reference.conf), per-language overrides, the languages to keep and how much a run may drop.
 *
 * @param defaults   thresholds for a language without its own settings
 * @param byLanguage thresholds of the languages with their own settings, keyed by language code
 * @param languages  the language codes to keep (drop reason {@code language}); empty: all
 */
public record FilterConfig(boolean enabled, Thresholds defaults, Map<String, Thresholds> byLanguage, List<String> languages,
                           double maxDroppedFraction) implements Serializable {
    public static final String BY_LANGUAGE = "by-language";

    /**
     * Languages written without spaces between words: with no settings of their own, their mean word length (of
     * dictionary words, 1-2 characters in Chinese) says nothing against the spaced-script defaults, so that filter is
     * skipped for them ({@link #skipped}).
     */
    public static final Set<String> UNSPACED_LANGUAGES = Set.of("zh", "ja", "th", "lo", "km", "my", "wuu", "yue", "lzh");

    public FilterConfig {
        byLanguage = Map.copyOf(byLanguage);
        languages = List.copyOf(languages);
    }

    public static FilterConfig from(Settings s) {
        Thresholds defaults = Thresholds.from(s, null);
        Map<String, Thresholds> byLanguage = new TreeMap<>();
        Settings by = s.section(BY_LANGUAGE);
        for (String code : s.has(BY_LANGUAGE) ? s.objectKeys(BY_LANGUAGE) : Set.<String>of()) {
            for (String key : by.objectKeys(code)) {
                by.section(code).require(Thresholds.KEYS.contains(key), key, "a language's settings take only the thresholds "
                        + new TreeSet<>(Thresholds.KEYS));
            }
            byLanguage.put(code, Thresholds.from(by.section(code), defaults));
        }
        List<String> languages = new ArrayList<>();
        for (String l : s.stringList("languages")) {
            s.require(l.matches("[a-z]{2,3}"), "languages", "language codes are ISO 639-1 (en, zh) or 639-3 (eng), got \"" + l + "\"");
            // The codes language identification writes: eng is en, cmn is zh.
            languages.add(LanguageId.code(l));
        }
        return new FilterConfig(s.bool("enabled"), defaults, byLanguage, languages, s.doubleIn("max-dropped-fraction", 0, 1));
    }

    /**
     * The thresholds for a document in {@code language} (null when language identification is off) whose words were
     * found as {@code segmentation} says: the language's own, else the defaults. An unspaced language's settings are
     * for dictionary words: a document identified as such but written with spaces (romanised, or mis-decoded bytes)
     * is measured in whitespace words and gets the defaults.
     */
    public Thresholds thresholdsFor(String language, Words.Segmentation segmentation) {
        Thresholds t = ownSettings(language, segmentation) ? byLanguage.get(language) : null;
        return t != null ? t : defaults;
    }

    /**
     * The filters skipped for a document in {@code language} segmented as {@code segmentation}: mean word length for
     * an unspaced language without settings of its own, in its own script.
     */
    public List<String> skipped(String language, Words.Segmentation segmentation) {
        return segmentation == Words.Segmentation.DICTIONARY ? skipped(language) : List.of();
    }

    /** The filters skipped for {@code language}'s documents in its own script (stats.json lists them per language). */
    public List<String> skipped(String language) {
        return language != null && !byLanguage.containsKey(language) && UNSPACED_LANGUAGES.contains(language)
                ? List.of(QualityFilters.MEAN_WORD_LENGTH) : List.of();
    }

    private boolean ownSettings(String language, Words.Segmentation segmentation) {
        return language != null && (segmentation == Words.Segmentation.DICTIONARY || !UNSPACED_LANGUAGES.contains(language));
    }

    /** Shorthands for the defaults. */
    public int minWords() {
        return defaults.minWords();
    }
}
