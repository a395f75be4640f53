package dev.kiln.tokenize;

import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;

import java.util.concurrent.ConcurrentHashMap;

/** One parsed tokenizer per executor JVM and tokenizer file (by SHA-256), shared by the tasks running there. */
final class TokenizerCache {
    private static final ConcurrentHashMap<String, BpeTokenizer> CACHE = new ConcurrentHashMap<>();

    private TokenizerCache() {
    }

    static BpeTokenizer get(String sha256, String json) {
        return CACHE.computeIfAbsent(sha256, k -> TokenizerJson.read(json, "tokenizer " + k));
    }
}
