package dev.kiln.common.io;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 content hashes, as 64 lowercase hex digits: what lineage, ledgers, manifests and reports identify files,
 * tokenizers and models by. Kiln's one SHA-256 helper.
 */
public final class FileHashes {
    private FileHashes() {
    }

    /** The SHA-256 of {@code file}'s bytes on any Hadoop file system; streams the file in 64 KiB reads. */
    public static String sha256(FileSystem fs, Path file) throws IOException {
        MessageDigest md = newSha256();
        try (DigestInputStream in = new DigestInputStream(fs.open(file), md)) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // digesting
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(newSha256().digest(bytes));
    }

    /** The SHA-256 of {@code text}'s UTF-8 bytes (a tokenizer.json's hash is of its text as written). */
    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A fresh SHA-256 digest; every JVM provides the algorithm, so its absence is an error of the platform. */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
