package dev.kiln.preprocess;

import java.io.Serializable;

/**
 * One input record after reading, cleaning and filtering: a quarantine entry, a removed document (with the reason),
 * or a kept document with its exact-duplicate hash.
 *
 * @param document     the cleaned document (null for quarantine entries)
 * @param hash         128-bit hex hash of the normalised text (kept documents only)
 * @param removedBy    removal reason (cleaning or filter name), null when kept
 * @param bytesRead    UTF-8 bytes of the text as read
 * @param bytesCleaned UTF-8 bytes of the text after cleaning
 */
public record Processed(Document document, String hash, String removedBy, long bytesRead, long bytesCleaned,
                        String quarantinePath, String quarantineReason) implements Serializable {

    public boolean isQuarantine() {
        return document == null;
    }

    public boolean isKept() {
        return document != null && removedBy == null;
    }

    public boolean isRemoved() {
        return document != null && removedBy != null;
    }
}
