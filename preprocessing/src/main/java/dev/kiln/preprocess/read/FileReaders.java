package dev.kiln.preprocess.read;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.preprocess.doc.Document;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

/**
 * Reads one input file through the Hadoop FileSystem API into documents and quarantine entries. Plain Java, no Spark:
 * the pipeline calls it from a Spark task, the tests call it directly. Nothing here throws for bad input: an unreadable
 * file or record becomes a {@link ReadRecord#quarantine} with the reason, and the file's good records still go through.
 */
public final class FileReaders {
    /**
     * max-record-bytes bounds a JSON line, not Jackson's own default (a string of at most 20 M chars, since 2.15):
     * with max-record-bytes above 20m a longer text would otherwise be quarantined as "invalid JSON".
     */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build()).build());

    private FileReaders() {
    }

    /**
     * All records of one file, lazily for line-based formats (a big JSON Lines file is never held in memory). Records
     * are as read: cleaning (HTML to text, mail headers stripped, ...) is the cleaning steps' work.
     */
    public static Iterator<ReadRecord> read(InputFile file, InputConfig input, Configuration conf) {
        if (file.length() == 0) {
            return List.of(ReadRecord.quarantine(file.path(), "empty file")).iterator();
        }
        try {
            return switch (file.format()) {
                case TEXT -> List.of(readWhole(file, input, conf, bytes -> textDocument(file, bytes))).iterator();
                case MAIL -> List.of(readWhole(file, input, conf, bytes -> mailDocument(file, bytes))).iterator();
                case LINES, JSONL -> new LineRecords(file, input, conf);
                case PARQUET -> ParquetRecords.read(file, input, conf);
                case AUTO -> throw new IllegalStateException("format must be resolved per file before reading");
            };
        } catch (IOException | RuntimeException e) {
            return List.of(ReadRecord.quarantine(file.path(), "cannot read: " + describe(e))).iterator();
        }
    }

    @FunctionalInterface
    private interface BytesToRecord {
        ReadRecord apply(byte[] bytes) throws Exception;
    }

    private static ReadRecord readWhole(InputFile file, InputConfig input, Configuration conf, BytesToRecord parse) {
        if (file.length() > input.maxRecordBytes()) {
            return ReadRecord.quarantine(file.path(), "file of " + file.length() + " bytes exceeds max-record-bytes (" + input.maxRecordBytes() + ")");
        }
        byte[] bytes;
        try (InputStream in = open(file, conf)) {
            bytes = in.readNBytes((int) input.maxRecordBytes() + 1);
        } catch (IOException | RuntimeException e) {
            return ReadRecord.quarantine(file.path(), "cannot read: " + describe(e));
        }
        if (bytes.length > input.maxRecordBytes()) {
            return ReadRecord.quarantine(file.path(), "decompressed content exceeds max-record-bytes (" + input.maxRecordBytes() + ")");
        }
        if (bytes.length == 0) {
            return ReadRecord.quarantine(file.path(), "empty file");
        }
        try {
            return parse.apply(bytes);
        } catch (Utf8.InvalidUtf8Exception e) {
            return ReadRecord.quarantine(file.path(), e.getMessage());
        } catch (MailParser.NoTextException e) {
            return ReadRecord.quarantine(file.path(), "mail: " + e.getMessage());
        } catch (Exception e) {
            return ReadRecord.quarantine(file.path(), "cannot parse: " + describe(e));
        }
    }

    private static ReadRecord textDocument(InputFile file, byte[] bytes) throws Utf8.InvalidUtf8Exception {
        String text = Utf8.decode(bytes, 0, bytes.length);
        return ReadRecord.of(Document.of(file.path(), "", text, baseMetadata(file)));
    }

    /**
     * One message as read: its unfolded header block, a blank line, the chosen body parts as decoded (HTML left as
     * HTML); the subject, the body's content type and the folder's label in the metadata.
     */
    private static ReadRecord mailDocument(InputFile file, byte[] bytes) throws Exception {
        MailParser.Mail mail = MailParser.parse(bytes);
        Map<String, String> meta = baseMetadata(file);
        meta.put("subject", mail.subject());
        meta.put("content_type", mail.bodyType());
        String folder = folderOf(file.path());
        if (!folder.isEmpty()) {
            meta.put("folder", folder);
            String f = folder.toLowerCase(Locale.ROOT);
            // SpamAssassin-style folders (spam-1, easy-ham-2, hard-ham-1) carry the label.
            if (f.contains("spam")) {
                meta.put("label", "spam");
            } else if (f.contains("ham")) {
                meta.put("label", "ham");
            }
        }
        return ReadRecord.of(Document.of(file.path(), "", mail.asRead(), meta));
    }

    static Map<String, String> baseMetadata(InputFile file) {
        Map<String, String> meta = new TreeMap<>();
        meta.put("format", file.format().name().toLowerCase(Locale.ROOT));
        return meta;
    }

    private static String folderOf(String path) {
        Path p = new Path(path).getParent();
        return p == null ? "" : p.getName();
    }

    static InputStream open(InputFile file, Configuration conf) throws IOException {
        Path p = new Path(file.path());
        FileSystem fs = p.getFileSystem(conf);
        InputStream in = new BufferedInputStream(fs.open(p), 1 << 16);
        if (file.path().toLowerCase(Locale.ROOT).endsWith(".gz")) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return in;
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        String name = e.getClass().getSimpleName();
        return m == null || m.isBlank() ? name : name + ": " + (m.length() > 300 ? m.substring(0, 300) + "..." : m);
    }

    /** JSON Lines and one-document-per-line text, streamed line by line. */
    private static final class LineRecords extends SkippingIterator<ReadRecord> {
        private final InputFile file;
        private final InputConfig input;
        private final boolean json;
        private InputStream in;
        private LineScanner lines;
        private long documents;

        LineRecords(InputFile file, InputConfig input, Configuration conf) throws IOException {
            this.file = file;
            this.input = input;
            this.json = file.format() == InputFormat.JSONL;
            this.in = open(file, conf);
            this.lines = new LineScanner(in, (int) input.maxRecordBytes());
        }

        /** The next record, or null for a blank line (and at the end, with done set). */
        @Override
        protected ReadRecord advance() {
            LineScanner.Line line;
            try {
                line = lines.next();
            } catch (IOException | RuntimeException e) {
                // Corrupt gzip, truncated stream, I/O failure: the lines before it are kept, the rest of the file is lost.
                close();
                return ReadRecord.quarantine(file.path(), "unreadable after line " + linesRead() + " (" + documents
                        + " records kept): " + describe(e));
            }
            if (line == null) {
                close();
                if (documents == 0 && linesRead() == 0) {
                    return ReadRecord.quarantine(file.path(), "empty file");
                }
                return null;
            }
            if (line.tooLong()) {
                return ReadRecord.quarantine(file.path(), "line " + line.number() + ": " + line.length()
                        + " bytes exceeds max-record-bytes (" + input.maxRecordBytes() + ")");
            }
            String text;
            try {
                text = Utf8.decode(line.bytes(), 0, line.used());
            } catch (Utf8.InvalidUtf8Exception e) {
                return ReadRecord.quarantine(file.path(), "line " + line.number() + ": " + e.getMessage());
            }
            if (text.isBlank()) {
                return null;
            }
            String key = Long.toString(line.number());
            if (!json) {
                documents++;
                Map<String, String> meta = baseMetadata(file);
                meta.put("line", key);
                return ReadRecord.of(Document.of(file.path(), key, text, meta));
            }
            JsonNode node;
            try {
                node = JSON.readTree(text);
            } catch (JsonProcessingException e) {
                return ReadRecord.quarantine(file.path(), "line " + line.number() + ": invalid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) {
                return ReadRecord.quarantine(file.path(), "line " + line.number() + ": not a JSON object");
            }
            JsonNode t = node.get(input.textField());
            if (t == null || !t.isTextual()) {
                return ReadRecord.quarantine(file.path(), "line " + line.number() + ": no string field \"" + input.textField() + "\" ("
                        + (t == null ? "missing" : "it is " + jsonType(t)) + ")");
            }
            Map<String, String> meta = baseMetadata(file);
            meta.put("line", key);
            if (input.idField() != null) {
                JsonNode id = node.get(input.idField());
                if (id != null && id.isValueNode() && !id.isNull()) {
                    key = "id:" + id.asText();
                    meta.put("source_id", id.asText());
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String name = f.getKey();
                if (name.equals(input.textField()) || (input.idField() != null && name.equals(input.idField()))) {
                    continue;
                }
                if (f.getValue().isValueNode() && !f.getValue().isNull()
                        && (input.metadataFields().isEmpty() || input.metadataFields().contains(name))) {
                    meta.put(name, f.getValue().asText());
                }
            }
            documents++;
            return ReadRecord.of(Document.of(file.path(), key, t.asText(), meta));
        }

        /** The JSON type of a value that is not a string, as the quarantine reason names it. */
        private static String jsonType(JsonNode n) {
            return switch (n.getNodeType()) {
                case NUMBER -> "a number";
                case BOOLEAN -> "a boolean";
                case ARRAY -> "an array";
                case OBJECT -> "an object";
                case NULL -> "null";
                case BINARY -> "binary";
                default -> n.getNodeType().name().toLowerCase(Locale.ROOT);
            };
        }

        private long linesRead() {
            return lines == null ? 0 : lines.lineNumber();
        }

        private void close() {
            finish();
            try {
                if (in != null) {
                    in.close();
                }
            } catch (IOException ignored) {
                // Reading is over; a failing close changes nothing we could report.
            }
            in = null;
        }
    }
}
