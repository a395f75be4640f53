package dev.kiln.preprocess.read;

import dev.kiln.preprocess.doc.Document;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.Type;

import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Parquet rows as documents, read with parquet-hadoop's record reader in the task (not Spark's DataFrame reader) so
 * a corrupt file, or a row without the text field, is quarantined like any other bad input and the rows before it kept.
 * Top-level scalar columns other than the text and id columns become metadata.
 */
final class ParquetRecords {
    private ParquetRecords() {
    }

    static Iterator<ReadRecord> read(InputFile file, InputConfig input, Configuration conf) throws IOException {
        ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), new Path(file.path())).withConf(conf).build();
        return new SkippingIterator<>() {
            private long row;

            @Override
            protected ReadRecord advance() {
                Group g;
                try {
                    g = reader.read();
                } catch (IOException | RuntimeException e) {
                    close();
                    return ReadRecord.quarantine(file.path(), "unreadable after row " + row + ": " + FileReaders.describe(e));
                }
                if (g == null) {
                    close();
                    return row == 0 ? ReadRecord.quarantine(file.path(), "no rows") : null;
                }
                row++;
                String text = scalar(g, input.textField());
                if (text == null) {
                    return ReadRecord.quarantine(file.path(), "row " + row + ": no string column \"" + input.textField() + "\"");
                }
                if (text.length() * 3L > input.maxRecordBytes() && Document.utf8Length(text) > input.maxRecordBytes()) {
                    return ReadRecord.quarantine(file.path(), "row " + row + ": text exceeds max-record-bytes (" + input.maxRecordBytes() + ")");
                }
                Map<String, String> meta = FileReaders.baseMetadata(file);
                meta.put("row", Long.toString(row));
                String key = Long.toString(row);
                if (input.idField() != null) {
                    String id = scalar(g, input.idField());
                    if (id != null) {
                        key = "id:" + id;
                        meta.put("source_id", id);
                    }
                }
                GroupType schema = g.getType();
                for (Type f : schema.getFields()) {
                    String name = f.getName();
                    List<String> wanted = input.metadataFields();
                    if (!f.isPrimitive() || name.equals(input.textField()) || name.equals(input.idField())
                            || (!wanted.isEmpty() && !wanted.contains(name))) {
                        continue;
                    }
                    String v = scalar(g, name);
                    if (v != null) {
                        meta.put(name, v);
                    }
                }
                return ReadRecord.of(Document.of(file.path(), key, text, meta));
            }

            private void close() {
                finish();
                try {
                    reader.close();
                } catch (IOException ignored) {
                    // Nothing left to read; a failing close loses nothing.
                }
            }
        };
    }

    /** A top-level primitive column's value as a string, or null when absent, repeated-empty or not primitive. */
    private static String scalar(Group g, String field) {
        GroupType schema = g.getType();
        if (!schema.containsField(field)) {
            return null;
        }
        int i = schema.getFieldIndex(field);
        if (!schema.getType(i).isPrimitive() || g.getFieldRepetitionCount(i) == 0) {
            return null;
        }
        return g.getValueToString(i, 0);
    }
}
