package dev.kiln.preprocess.doc;

import java.io.Serializable;

/**
 * What one {@link DocStep} decided about a document: keep it (possibly transformed, as a cleaner does), or drop it
 * with a reason (the counter it is reported under in stats.json, e.g. {@code too_few_words}) and a detail for a
 * human (e.g. {@code "too_few_words: 12 < 50"}). One vocabulary throughout: a step keeps or drops, and a document
 * ends {@code Kept} or {@code Dropped} ({@link DocPipeline.Outcome}, and {@code Processed} per input record).
 */
public sealed interface Verdict extends Serializable {

    /** The document goes on to the next step, as given here. */
    record Keep(Document document) implements Verdict {
    }

    /** The document stops here. */
    record Drop(String reason, String detail) implements Verdict {
    }

    static Verdict keep(Document document) {
        return new Keep(document);
    }

    static Verdict drop(String reason, String detail) {
        return new Drop(reason, detail);
    }
}
