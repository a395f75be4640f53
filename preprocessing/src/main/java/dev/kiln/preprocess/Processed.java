package dev.kiln.preprocess;

import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.doc.Verdict;

import java.io.Serializable;

/**
 * One input record after reading, cleaning and filtering: a kept document with its exact-duplicate hash, a dropped
 * one with the step that dropped it, or a quarantine entry (the keep/drop words of {@link Verdict}; stats.json and
 * removed-samples/ still say "removed"). Sizes are UTF-8 bytes of the text as read and after cleaning.
 */
public sealed interface Processed extends Serializable {

    /** Kept by every step. {@code hash}: 128-bit hex hash of the normalised text (see TextHash). */
    record Kept(Document document, String hash, long bytesRead, long bytesCleaned) implements Processed {
    }

    /** Dropped by step number {@code step} of the pipeline; {@code document} is the text that step saw. */
    record Dropped(Document document, int step, Verdict.Drop drop, long bytesRead, long bytesCleaned) implements Processed {
        /** The removal reason stats.json and removed-samples/ name it by. */
        public String reason() {
            return drop.reason();
        }
    }

    /** The input could not be read as a document. */
    record Quarantined(String path, String reason) implements Processed {
    }
}
