package dev.kiln.preprocess.lang;

import opennlp.tools.langdetect.Language;
import opennlp.tools.langdetect.LanguageDetectorME;
import opennlp.tools.langdetect.LanguageDetectorModel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.MissingResourceException;

/**
 * Language identification with Apache OpenNLP's language detector and its published model {@code langdetect-183.bin}
 * (103 languages, character 1-3-grams, maximum entropy; Maven Central {@code org.apache.opennlp:opennlp-models-langdetect}).
 * The model is loaded once per JVM (an executor loads it on its first document); each thread gets its own detector.
 * Codes are ISO 639-1 where one exists ({@code en}, {@code zh}, {@code ja}), else the model's ISO 639-3 code.
 */
public final class LanguageId {
    private static final String MODEL = "/langdetect-183.bin";
    /** The model's individual-language codes whose macrolanguage has an ISO 639-1 code (Mandarin is Chinese, ...). */
    private static final Map<String, String> MEMBERS = Map.ofEntries(Map.entry("cmn", "zh"), Map.entry("pes", "fa"),
            Map.entry("swh", "sw"), Map.entry("ekk", "et"), Map.entry("lvs", "lv"), Map.entry("zsm", "ms"),
            Map.entry("uzn", "uz"), Map.entry("azj", "az"), Map.entry("khk", "mn"), Map.entry("npi", "ne"),
            Map.entry("ory", "or"), Map.entry("plt", "mg"), Map.entry("ydd", "yi"), Map.entry("gug", "gn"),
            Map.entry("lzh", "zh"), Map.entry("yue", "zh"), Map.entry("nob", "nb"));
    private static final Map<String, String> ISO3_TO_ISO1 = iso1Codes();
    private static volatile LanguageDetectorModel model;
    private static final ThreadLocal<LanguageDetectorME> DETECTOR = ThreadLocal.withInitial(() -> new LanguageDetectorME(model()));

    /** A document's language and the model's probability for it (0-1). */
    public record Guess(String language, double score) {
    }

    private LanguageId() {
    }

    /**
     * The most likely language of the first {@code maxChars} characters of {@code text} (0: all of it). The text's
     * line breaks are read as spaces, as the model was trained on single-line sentences.
     */
    public static Guess identify(String text, int maxChars) {
        CharSequence sample = maxChars > 0 && text.length() > maxChars ? text.subSequence(0, maxChars) : text;
        Language best = DETECTOR.get().predictLanguage(sample.toString().replace('\n', ' '));
        return new Guess(code(best.getLang()), best.getConfidence());
    }

    /** ISO 639-1 for the model's ISO 639-3 {@code code} where one exists, else the code itself. */
    public static String code(String iso3) {
        String member = MEMBERS.get(iso3);
        return member != null ? member : ISO3_TO_ISO1.getOrDefault(iso3, iso3);
    }

    private static LanguageDetectorModel model() {
        LanguageDetectorModel m = model;
        if (m == null) {
            synchronized (LanguageId.class) {
                m = model;
                if (m == null) {
                    try (InputStream in = LanguageId.class.getResourceAsStream(MODEL)) {
                        if (in == null) {
                            throw new IllegalStateException(MODEL + " is not on the classpath (org.apache.opennlp:opennlp-models-langdetect)");
                        }
                        m = new LanguageDetectorModel(in);
                        model = m;
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot load the language model " + MODEL, e);
                    }
                }
            }
        }
        return m;
    }

    private static Map<String, String> iso1Codes() {
        Map<String, String> m = new HashMap<>();
        for (String iso1 : Locale.getISOLanguages()) {
            try {
                m.put(new Locale(iso1).getISO3Language(), iso1);
            } catch (MissingResourceException e) {
                // a code without a three-letter form keeps its model code
            }
        }
        return m;
    }
}
