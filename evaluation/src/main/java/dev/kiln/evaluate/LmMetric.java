package dev.kiln.evaluate;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * The language-model metrics of a report: the one table that report.json's writer and reader, report.md and
 * report.html all read. A new metric is one more constant here (its key in report.json, its name and unit on the
 * page, how it is formatted, where it appears, and how it follows from {@link LmStats}); nothing else changes.
 */
public enum LmMetric {
    LOSS("loss", "loss", "nats/token", "%.4f", LmStats::loss, Place.SCORES, Place.TABLE, Place.CHART, Place.PER_SOURCE),
    TOKEN_PERPLEXITY("token_perplexity", "token perplexity", "", "%.4f", LmStats::tokenPerplexity, Place.SCORES, Place.TABLE),
    WORD_PERPLEXITY("word_perplexity", "word perplexity", "", "%.4f", LmStats::wordPerplexity, Place.SCORES, Place.TABLE,
            Place.LM_EVAL),
    BYTE_PERPLEXITY("byte_perplexity", "byte perplexity", "", "%.4f", LmStats::bytePerplexity, Place.SCORES, Place.TABLE,
            Place.LM_EVAL),
    /** The headline: comparable across tokenizers, so the charts and the per-source tables show it. */
    BITS_PER_BYTE("bits_per_byte", "bits per byte", "", "%.4f", LmStats::bitsPerByte, Place.SCORES, Place.TABLE, Place.CHART,
            Place.PER_SOURCE, Place.PER_SOURCE_TABLE, Place.LM_EVAL),
    NLL_SUM("nll_sum", "sum NLL", "nats", "%.4f", LmStats::nll, Place.SCORES, Place.TABLE, Place.PER_SOURCE);

    /** Where a metric appears. */
    public enum Place {
        /** report.json: every scorer of {@code results[].scorers}; the reader takes these keys back. */
        SCORES,
        /** report.md's and report.html's table per shard folder, one row per metric. */
        TABLE,
        /** report.html: a bar chart of checkpoints and baselines per metric (the headline first). */
        CHART,
        /** report.json: every scorer of every source group ({@code per_source.sets[].groups[].scorers}). */
        PER_SOURCE,
        /** report.md's and report.html's per-source tables and chart. */
        PER_SOURCE_TABLE,
        /** report.json's {@code lm_eval} block, as {@code "<key>,none"} with {@code "<key>_stderr,none": "N/A"}. */
        LM_EVAL
    }

    private final String key;
    private final String label;
    private final String unit;
    private final String format;
    private final ToDoubleFunction<LmStats> value;
    private final Set<Place> places;

    LmMetric(String key, String label, String unit, String format, ToDoubleFunction<LmStats> value, Place... places) {
        this.key = key;
        this.label = label;
        this.unit = unit;
        this.format = format;
        this.value = value;
        this.places = Set.of(places);
    }

    /** The metric's key in report.json. */
    public String key() {
        return key;
    }

    /** Its name on a page with its unit, e.g. "loss (nats/token)". */
    public String heading() {
        return unit.isEmpty() ? label : label + " (" + unit + ")";
    }

    /** The value as a table shows it (report.md and report.html alike). */
    public String format(double v) {
        return String.format(Locale.ROOT, format, v);
    }

    public double of(LmStats stats) {
        return value.applyAsDouble(stats);
    }

    public boolean appearsIn(Place place) {
        return places.contains(place);
    }

    /** The metrics shown in {@code place}, in table order (for {@link Place#CHART}: the headline first). */
    public static List<LmMetric> shownIn(Place place) {
        List<LmMetric> all = Arrays.stream(values()).filter(m -> m.appearsIn(place)).toList();
        if (place == Place.CHART && all.contains(BITS_PER_BYTE)) {
            return Stream.concat(Stream.of(BITS_PER_BYTE), all.stream().filter(m -> m != BITS_PER_BYTE)).toList();
        }
        return all;
    }
}
