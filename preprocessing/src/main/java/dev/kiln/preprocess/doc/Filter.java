package dev.kiln.preprocess.doc;

import java.util.Optional;

/**
 * A step that keeps or drops a document without changing it. A leaf implements {@link #failure(Document)}; the base
 * class turns it into a {@link Verdict} whose reason is the filter's name and whose detail is
 * {@code "<name>: <failure>"}.
 */
public abstract class Filter implements DocStep {
    private final String name;

    protected Filter(String name) {
        this.name = name;
    }

    /** Why {@code doc} fails this filter (e.g. {@code "12 < 50"}), or empty when it passes. */
    protected abstract Optional<String> failure(Document doc);

    @Override
    public final String name() {
        return name;
    }

    @Override
    public Family family() {
        return Family.FILTER;
    }

    @Override
    public final Verdict apply(Document doc) {
        Optional<String> why = failure(doc);
        return why.isEmpty() ? Verdict.keep(doc) : Verdict.drop(name, name + ": " + why.get());
    }

    @Override
    public String toString() {
        return name;
    }
}
