package dev.kiln.preprocess.read;

import java.util.Locale;

/** How an input file is turned into documents. */
public enum InputFormat {
    /** One document per file. */
    TEXT,
    /** One document per non-blank line. */
    LINES,
    /** JSON Lines, optionally gzip-compressed. */
    JSONL,
    /** Parquet, read row by row in the task with parquet-hadoop's record reader (not Spark's DataFrame reader), see ParquetRecords. */
    PARQUET,
    /** One raw RFC 822 / MIME message per file. */
    MAIL,
    /** Chosen per file from its extension. */
    AUTO;

    /** The concrete format of one file: this one, or for AUTO the one its name implies. */
    public InputFormat resolve(String fileName) {
        if (this != AUTO) {
            return this;
        }
        String n = fileName.toLowerCase(Locale.ROOT);
        if (n.endsWith(".gz")) {
            n = n.substring(0, n.length() - 3);
        }
        if (n.endsWith(".jsonl") || n.endsWith(".json") || n.endsWith(".ndjson")) {
            return JSONL;
        }
        if (n.endsWith(".parquet")) {
            return PARQUET;
        }
        if (n.endsWith(".eml") || n.endsWith(".msg")) {
            return MAIL;
        }
        return TEXT;
    }
}
