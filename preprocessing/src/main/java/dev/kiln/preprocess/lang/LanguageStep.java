package dev.kiln.preprocess.lang;

import dev.kiln.preprocess.doc.DocStep;
import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.doc.Verdict;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The language step, first of the filters: identifies the cleaned text's language ({@link LanguageId}), records it in
 * the document's metadata ({@value #LANGUAGE}, {@value #SCORE}) for the filters after it and the output, and drops a
 * document whose language is not among {@code kiln.preprocess.filter.languages} (reason {@value #NAME}; none when the
 * list is empty).
 */
public final class LanguageStep implements DocStep {
    public static final String NAME = "language";
    public static final String LANGUAGE = "language";
    public static final String SCORE = "language_score";

    private final LanguageConfig config;
    private final Set<String> keep;

    public LanguageStep(LanguageConfig config, List<String> keep) {
        this.config = config;
        this.keep = Set.copyOf(keep);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Family family() {
        return Family.FILTER;
    }

    @Override
    public Verdict apply(Document doc) {
        LanguageId.Guess g = LanguageId.identify(doc.text(), config.maxChars());
        String score = String.format(Locale.ROOT, "%.4f", g.score());
        if (!keep.isEmpty() && !keep.contains(g.language())) {
            return Verdict.drop(NAME, NAME + ": " + g.language() + " (" + score + ") not in " + new TreeSet<>(keep));
        }
        TreeMap<String, String> metadata = new TreeMap<>(doc.metadata());
        metadata.put(LANGUAGE, g.language());
        metadata.put(SCORE, score);
        return Verdict.keep(new Document(doc.id(), doc.source(), doc.text(), metadata));
    }

    @Override
    public String toString() {
        return NAME;
    }
}
