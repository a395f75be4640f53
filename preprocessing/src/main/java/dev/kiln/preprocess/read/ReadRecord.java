package dev.kiln.preprocess.read;

import dev.kiln.preprocess.doc.Document;

import java.io.Serializable;

/**
 * What reading one file yields, record by record: a document, or a quarantine entry naming the unreadable input
 * (the file, with the line or row in the reason) and why. Good records of a file with a bad one still go through.
 */
public sealed interface ReadRecord extends Serializable {

    /** A record read as a document (its text as read: nothing is cleaned yet). */
    record Read(Document document) implements ReadRecord {
    }

    /** An input that could not be read as a document. */
    record Quarantined(String path, String reason) implements ReadRecord {
    }

    static ReadRecord of(Document d) {
        return new Read(d);
    }

    static ReadRecord quarantine(String path, String reason) {
        return new Quarantined(path, reason);
    }
}
