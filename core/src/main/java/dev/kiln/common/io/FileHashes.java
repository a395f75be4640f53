package dev.kiln.common.io;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Content hashes of files on any Hadoop file system: what lineage, ledgers and reports identify inputs by. */
public final class FileHashes {
    private FileHashes() {
    }

    /** The SHA-256 of {@code file}'s bytes, as 64 lowercase hex digits; streams the file in 64 KiB reads. */
    public static String sha256(FileSystem fs, Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (DigestInputStream in = new DigestInputStream(fs.open(file), md)) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // digesting
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
