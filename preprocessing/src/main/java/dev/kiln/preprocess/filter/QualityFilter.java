package dev.kiln.preprocess.filter;

import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.doc.Filter;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Optional;

/**
 * One Gopher check: a {@link TextMeasure} of the document's text must lie in [{@code min}, {@code max}] (an open side
 * is an infinity). Built by {@link QualityFilters#from}, whose checks share one {@link SharedProfile} so a document's
 * {@link TextProfile} is computed once, not once per check.
 */
public final class QualityFilter extends Filter {
    private final TextMeasure measure;
    private final double min;
    private final double max;
    private final SharedProfile profiles;

    QualityFilter(String name, TextMeasure measure, double min, double max, SharedProfile profiles) {
        super(name);
        this.measure = measure;
        this.min = min;
        this.max = max;
        this.profiles = profiles;
    }

    @Override
    protected Optional<String> failure(Document doc) {
        double value = measure.of(profiles.of(doc.text()));
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
