package dev.kiln.preprocess.read;

import dev.kiln.common.config.Settings;

import java.io.Serializable;
import java.util.List;

/** {@code kiln.preprocess.input}: what to read and how. */
public record InputConfig(List<String> paths, InputFormat format, String textField, String idField,
                          List<String> metadataFields, long maxRecordBytes, long bytesPerTask,
                          double maxQuarantinedFraction) implements Serializable {

    public static InputConfig from(Settings s) {
        List<String> paths = s.stringList("paths");
        s.require(!paths.isEmpty(), "paths", "at least one input path or glob is required (e.g. -Dkiln.preprocess.input.paths=data/*.txt)");
        InputFormat format = s.enumValue("format", InputFormat.class);
        String textField = s.nonEmpty("text-field");
        String idField = s.optionalString("id-field");
        long maxRecord = s.bytes("max-record-bytes");
        s.require(maxRecord >= 1024 && maxRecord <= Integer.MAX_VALUE - 16, "max-record-bytes", "expected a size between 1k and 2g");
        long perTask = s.bytes("bytes-per-task");
        s.require(perTask >= 1024, "bytes-per-task", "expected a size of at least 1k");
        return new InputConfig(List.copyOf(paths), format, textField, idField, s.stringList("metadata-fields"), maxRecord, perTask,
                s.doubleIn("max-quarantined-fraction", 0, 1));
    }
}
