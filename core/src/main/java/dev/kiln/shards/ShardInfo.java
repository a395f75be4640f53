package dev.kiln.shards;

import java.io.Serializable;

/**
 * One committed shard as the manifest lists it.
 *
 * @param path          relative to the folder holding {@code manifest.json}, e.g. {@code shards/train/run-0001-part-00003.arrow}
 * @param split         {@code train} or {@code validation}
 * @param rows          rows of {@code contextLength + 1} tokens
 * @param tokens        token-stream positions the rows cover: {@code rows * contextLength + 1} (0 when empty)
 * @param droppedTokens tokens at the end of the partition's stream that did not fill a last row (fewer than one row)
 * @param documents     documents packed into this shard's stream
 * @param bytes         file size
 * @param sha256        lower-case hex SHA-256 of the file's bytes
 */
public record ShardInfo(String path, String split, long rows, long tokens, long droppedTokens, long documents, long bytes, String sha256)
        implements Serializable {
    public ShardInfo {
        if (path == null || path.isBlank() || path.startsWith("/")) {
            throw new IllegalArgumentException("shard path must be relative to the manifest folder, got " + path);
        }
        if (!ShardSchema.TRAIN.equals(split) && !ShardSchema.VALIDATION.equals(split)) {
            throw new IllegalArgumentException("shard " + path + ": split must be train or validation, got " + split);
        }
    }
}
