package dev.kiln.train.checkpoint;

import dev.kiln.common.io.FileHashes;
import dev.kiln.tokenize.bpe.BpeTokenizer;

/**
 * The tokenizer a model's ids are of, as {@link ModelCheckpoints#tokenizer} found and checked it.
 *
 * @param path      where it was read (a shard folder's tokenizer.json, a given file, or a Hugging Face folder's)
 * @param json      its tokenizer.json text (what generation broadcasts and export copies)
 * @param tokenizer the parsed tokenizer
 */
public record CheckpointTokenizer(String path, String json, BpeTokenizer tokenizer) {
    public String sha256() {
        return FileHashes.sha256(json);
    }
}
