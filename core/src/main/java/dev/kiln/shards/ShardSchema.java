package dev.kiln.shards;

import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one schema every Kiln token shard has, so any Arrow reader (pyarrow, arrow-js, Spark) can open a shard:
 *
 * <pre>
 *   tokens:  FixedSizeList&lt;item: Int32 not null&gt;[contextLength + 1] not null
 *   sources: List&lt;item: Utf8 not null&gt; not null                      (format 2 only)
 *   schema metadata: kiln.format_version, kiln.context_length, kiln.vocab_size, kiln.tokenizer_sha256, kiln.split
 * </pre>
 *
 * Row {@code i} of a shard holds token-stream positions {@code [i*T, i*T + T]} (T = context length): consecutive rows
 * overlap by exactly one token, so a row gives inputs {@code row[0..T)} and next-token labels {@code row[1..T]} and
 * no token of the stream is skipped as a label.
 *
 * <p>{@code sources} (format 2) is row-aligned with {@code tokens}: row {@code r} lists, in stream order, the source of
 * every document whose start the row <em>owns</em>. The document at stream position 0 is owned by row 0; a document
 * that follows an end-of-text at stream position {@code p} is owned by row {@code floor(p / T)}. This is how
 * {@code dev.kiln.evaluate.ShardDocuments} splits a shard into chunks of rows, so a chunk knows the sources of exactly
 * the documents it emits, in order. Empty documents (two end-of-text in a row) are listed too; documents whose owner
 * would be a row of the dropped tail are not. Format 1 shards (no {@code sources}) are still read: their documents'
 * sources are unknown ({@link ShardReader#hasSources()} is false). Training reads only {@code tokens}.
 */
public final class ShardSchema {
    public static final String TOKENS = "tokens";
    public static final String SOURCES = "sources";
    public static final String ITEM = "item";
    /** The version this Kiln writes. */
    public static final String FORMAT_VERSION = "2";
    /** The first format: {@code tokens} only, no document sources. Still read. */
    public static final String FORMAT_VERSION_1 = "1";

    public static final String META_FORMAT_VERSION = "kiln.format_version";
    public static final String META_CONTEXT_LENGTH = "kiln.context_length";
    public static final String META_VOCAB_SIZE = "kiln.vocab_size";
    public static final String META_TOKENIZER_SHA256 = "kiln.tokenizer_sha256";
    public static final String META_SPLIT = "kiln.split";

    public static final String TRAIN = "train";
    public static final String VALIDATION = "validation";

    /** File-name suffix of shards. */
    public static final String EXTENSION = ".arrow";

    private ShardSchema() {
    }

    /** What a shard declares about itself in its schema metadata. */
    public record Header(int contextLength, int vocabSize, String tokenizerSha256, String split) implements Serializable {
        public Header {
            if (contextLength < 1) {
                throw new IllegalArgumentException("context length must be >= 1, got " + contextLength);
            }
            if (vocabSize < 1) {
                throw new IllegalArgumentException("vocabulary size must be >= 1, got " + vocabSize);
            }
            if (!TRAIN.equals(split) && !VALIDATION.equals(split)) {
                throw new IllegalArgumentException("split must be \"" + TRAIN + "\" or \"" + VALIDATION + "\", got " + split);
            }
            if (tokenizerSha256 == null) {
                throw new IllegalArgumentException("tokenizer hash is required");
            }
        }

        /** Tokens per row: the context plus the one-token overlap that supplies the last label. */
        public int rowLength() {
            return contextLength + 1;
        }

        Map<String, String> metadata() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put(META_FORMAT_VERSION, FORMAT_VERSION);
            m.put(META_CONTEXT_LENGTH, Integer.toString(contextLength));
            m.put(META_VOCAB_SIZE, Integer.toString(vocabSize));
            m.put(META_TOKENIZER_SHA256, tokenizerSha256);
            m.put(META_SPLIT, split);
            return m;
        }
    }

    public static Schema schema(Header header) {
        Field item = new Field(ITEM, FieldType.notNullable(new ArrowType.Int(32, true)), null);
        Field tokens = new Field(TOKENS, FieldType.notNullable(new ArrowType.FixedSizeList(header.rowLength())), List.of(item));
        Field source = new Field(ITEM, FieldType.notNullable(ArrowType.Utf8.INSTANCE), null);
        Field sources = new Field(SOURCES, FieldType.notNullable(ArrowType.List.INSTANCE), List.of(source));
        return new Schema(List.of(tokens, sources), header.metadata());
    }

    /** What {@link #parse} found: the header and whether the shard has the {@code sources} column (format 2). */
    record Parsed(Header header, String formatVersion, boolean hasSources) {
    }

    /** Checks a schema read from {@code where} and returns its header; the message says what is wrong. */
    static Parsed parse(Schema schema, String where) {
        Map<String, String> meta = schema.getCustomMetadata();
        if (meta == null || !meta.containsKey(META_CONTEXT_LENGTH)) {
            throw new IllegalStateException(where + " is not a Kiln token shard: schema metadata has no " + META_CONTEXT_LENGTH);
        }
        String version = meta.get(META_FORMAT_VERSION);
        if (!FORMAT_VERSION.equals(version) && !FORMAT_VERSION_1.equals(version)) {
            throw new IllegalStateException(where + ": shard format version " + version + ", this Kiln reads "
                    + FORMAT_VERSION_1 + " and " + FORMAT_VERSION);
        }
        boolean v2 = FORMAT_VERSION.equals(version);
        Header header;
        try {
            header = new Header(Integer.parseInt(meta.get(META_CONTEXT_LENGTH)), Integer.parseInt(meta.get(META_VOCAB_SIZE)),
                    meta.get(META_TOKENIZER_SHA256), meta.get(META_SPLIT));
        } catch (RuntimeException e) {
            throw new IllegalStateException(where + ": bad Kiln shard metadata " + meta + ": " + e.getMessage(), e);
        }
        List<Field> fields = schema.getFields();
        String expected = v2
                ? "the columns " + TOKENS + ": FixedSizeList<Int32>[" + header.rowLength() + "] and " + SOURCES + ": List<Utf8> (format 2)"
                : "the single column " + TOKENS + ": FixedSizeList<Int32>[" + header.rowLength() + "] (format 1)";
        if (fields.size() != (v2 ? 2 : 1) || !TOKENS.equals(fields.get(0).getName())
                || !(fields.get(0).getType() instanceof ArrowType.FixedSizeList list)
                || list.getListSize() != header.rowLength()
                || fields.get(0).getChildren().size() != 1
                || !new ArrowType.Int(32, true).equals(fields.get(0).getChildren().get(0).getType())
                || (v2 && !isSources(fields.get(1)))) {
            throw new IllegalStateException(where + ": expected " + expected + ", found schema " + schema);
        }
        return new Parsed(header, version, v2);
    }

    private static boolean isSources(Field f) {
        return SOURCES.equals(f.getName()) && f.getType() instanceof ArrowType.List && f.getChildren().size() == 1
                && f.getChildren().get(0).getType() instanceof ArrowType.Utf8;
    }
}
