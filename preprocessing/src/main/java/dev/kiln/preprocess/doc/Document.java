package dev.kiln.preprocess.doc;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One document as the readers produce it and the cleaning steps transform it. Immutable.
 *
 * @param id       stable identifier: 128 bits of SHA-256 over source, record key and the text as read (see {@link #idOf})
 * @param source   the input path the document came from
 * @param text     the document text
 * @param metadata reader-provided facts (mail subject and label, JSON fields such as year and name), sorted by key
 */
public record Document(String id, String source, String text, SortedMap<String, String> metadata) implements Serializable {

    public Document {
        metadata = Collections.unmodifiableSortedMap(new TreeMap<>(metadata));
    }

    public static Document of(String source, String recordKey, String text, Map<String, String> metadata) {
        return new Document(idOf(source, recordKey, text), source, text, new TreeMap<>(metadata));
    }

    public Document withText(String newText) {
        return new Document(id, source, newText, metadata);
    }

    /**
     * The id is a content/source hash, never a position counter: the same input gives the same id on every run and
     * every cluster size, and two records only share an id when they have the same source, key and text.
     */
    public static String idOf(String source, String recordKey, String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(source.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(recordKey.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** UTF-8 length of a string without encoding it. */
    public static long utf8Length(String s) {
        long n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
