package dev.kiln.preprocess.doc;

/**
 * A step that rewrites the text and always keeps the document. A leaf implements {@link #clean(String)} (or, when
 * what it does depends on the reader's metadata, {@link #clean(Document)}); the base class carries the id, source
 * and metadata over unchanged (the id stays the one computed from the text as read).
 */
public abstract class Cleaner implements DocStep {
    private final String name;

    protected Cleaner(String name) {
        this.name = name;
    }

    /** The cleaned text; {@code text} itself when there is nothing to change. */
    protected abstract String clean(String text);

    /** The cleaned text of {@code doc}; by default {@link #clean(String)} of its text, whatever its metadata. */
    protected String clean(Document doc) {
        return clean(doc.text());
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Family family() {
        return Family.CLEAN;
    }

    @Override
    public final Verdict apply(Document doc) {
        String cleaned = clean(doc);
        // Leaves return the same instance when nothing changed, which spares copying the metadata.
        return Verdict.keep(cleaned == doc.text() ? doc : doc.withText(cleaned));
    }

    @Override
    public String toString() {
        return name;
    }
}
