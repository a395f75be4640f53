package dev.kiln.preprocess.read;

import dev.kiln.preprocess.Document;

import java.io.Serializable;

/**
 * What reading one file yields, record by record: a document, or a quarantine entry naming the unreadable input
 * (the file, with the line or row in the reason) and why. Good records of a file with a bad one still go through.
 */
public record ReadRecord(Document document, String quarantinePath, String reason) implements Serializable {

    public static ReadRecord of(Document d) {
        return new ReadRecord(d, null, null);
    }

    public static ReadRecord quarantine(String path, String reason) {
        return new ReadRecord(null, path, reason);
    }

    public boolean isDocument() {
        return document != null;
    }
}
