package dev.kiln.preprocess.doc;

import java.io.Serializable;

/**
 * A number of documents with their UTF-8 bytes as read and after cleaning. Tallies add up, so partitions merge in
 * any order.
 */
public record DocTally(long documents, long bytesRead, long bytesCleaned) implements Serializable {
    public static final DocTally ZERO = new DocTally(0, 0, 0);

    /** One document. */
    public static DocTally of(long bytesRead, long bytesCleaned) {
        return new DocTally(1, bytesRead, bytesCleaned);
    }

    public DocTally plus(DocTally o) {
        return new DocTally(documents + o.documents, bytesRead + o.bytesRead, bytesCleaned + o.bytesCleaned);
    }

    public DocTally minus(DocTally o) {
        return new DocTally(documents - o.documents, bytesRead - o.bytesRead, bytesCleaned - o.bytesCleaned);
    }
}
