package dev.kiln.tokenize;

import dev.kiln.shards.ShardSchema;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Train/validation assignment by document hash: SHA-256 of the document's {@code hash} value, read as a number in
 * [0, 1), below the fraction means validation. A pure function of the document, so reruns, incremental runs and
 * other cluster sizes all agree, and a document never moves between splits.
 */
public final class DocumentSplit {
    private DocumentSplit() {
    }

    /** A uniform number in [0, 1) derived from the document hash. */
    public static double unit(String documentHash) {
        byte[] d;
        try {
            d = MessageDigest.getInstance("SHA-256").digest(documentHash.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (d[i] & 0xFF);
        }
        return (bits >>> 11) * 0x1.0p-53;
    }

    public static boolean isValidation(String documentHash, double validationFraction) {
        return unit(documentHash) < validationFraction;
    }

    public static String splitOf(String documentHash, double validationFraction) {
        return isValidation(documentHash, validationFraction) ? ShardSchema.VALIDATION : ShardSchema.TRAIN;
    }
}
