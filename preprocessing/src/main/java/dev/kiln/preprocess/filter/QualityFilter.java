package dev.kiln.preprocess.filter;

import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.doc.Filter;
import dev.kiln.preprocess.lang.LanguageStep;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Optional;

/**
 * One Gopher check: a {@link TextMeasure} of the document's text must lie in [{@code min}, {@code max}] (an open side
 * is an infinity) of the {@link Thresholds} for the document's language (metadata {@code language}, set by the
 * language step; the defaults without it). Skipped where {@link FilterConfig#skipped} says it means nothing for the
 * language (see {@link FilterConfig#thresholdsFor}). Built by {@link QualityFilters#from}, whose checks share one {@link SharedProfile} so a document's
 * {@link TextProfile} is computed once, not once per check.
 */
public final class QualityFilter extends Filter {
    /** One side of a check's range, read from a language's thresholds. */
    interface Bound extends Serializable {
        double of(Thresholds t);
    }

    private final TextMeasure measure;
    private final Bound min;
    private final Bound max;
    private final FilterConfig config;
    private final SharedProfile profiles;

    QualityFilter(String name, TextMeasure measure, Bound min, Bound max, FilterConfig config, SharedProfile profiles) {
        super(name);
        this.measure = measure;
        this.min = min;
        this.max = max;
        this.config = config;
        this.profiles = profiles;
    }

    @Override
    protected Optional<String> failure(Document doc) {
        String language = doc.metadata().get(LanguageStep.LANGUAGE);
        TextProfile profile = profiles.of(doc.text());
        if (language != null && config.skipped(language, profile.segmentation()).contains(name())) {
            return Optional.empty();
        }
        Thresholds t = config.thresholdsFor(language, profile.segmentation());
        double min = this.min.of(t);
        double max = this.max.of(t);
        double value = measure.of(profile);
        if (value < min) {
            return Optional.of(format(value) + " < " + format(min));
        }
        if (value > max) {
            return Optional.of(format(value) + " > " + format(max));
        }
        return Optional.empty();
    }

    /** Four significant digits, no trailing zeros: 12, 0.3333, 100000. */
    static String format(double v) {
        return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
    }

    /**
     * The profile of the text last checked on this thread, so the checks of one document share it. Per thread because
     * a profile fills its lazy parts as checks ask for them; a Spark task runs its documents on one thread.
     */
    static final class SharedProfile implements Serializable {
        private transient ThreadLocal<TextProfile> last;

        TextProfile of(String text) {
            ThreadLocal<TextProfile> l = last;
            if (l == null) {
                l = new ThreadLocal<>();
                last = l;
            }
            TextProfile p = l.get();
            if (p == null || p.text() != text) {
                p = new TextProfile(text);
                l.set(p);
            }
            return p;
        }
    }
}
