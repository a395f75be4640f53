package dev.kiln.common.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Write-then-rename through the Hadoop FileSystem API, so readers never see a partial file or folder, whatever
 * the scheme (file://, hdfs://, s3a://). Staging names start with '_' so Spark and Hadoop input formats skip them.
 *
 * <p>On object stores rename is a copy, not atomic; the staging-then-rename order still guarantees that the final
 * name only appears once its content is complete.
 */
public final class AtomicOutput {
    private AtomicOutput() {
    }

    public static FileSystem fs(String path, Configuration conf) {
        try {
            return new Path(path).getFileSystem(conf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the file system of " + path, e);
        }
    }

    /** A sibling staging path for {@code target}: {@code parent/_tmp-<name>-<uuid>}. */
    public static Path stagingFor(Path target) {
        return new Path(target.getParent(), "_tmp-" + target.getName() + "-" + UUID.randomUUID());
    }

    /** Writes a whole small file (JSON, manifests) atomically, replacing any previous version. */
    public static void writeString(FileSystem fs, Path target, String content) throws IOException {
        writeBytes(fs, target, content.getBytes(StandardCharsets.UTF_8));
    }

    public static void writeBytes(FileSystem fs, Path target, byte[] content) throws IOException {
        write(fs, target, out -> out.write(content));
    }

    /** Streams into a staging file and renames it onto {@code target} once the writer has returned and the file is closed. */
    public static void write(FileSystem fs, Path target, Writer writer) throws IOException {
        fs.mkdirs(target.getParent());
        Path staging = stagingFor(target);
        boolean done = false;
        try {
            try (FSDataOutputStream out = fs.create(staging, false)) {
                writer.write(out);
                out.hflush();
            }
            commit(fs, staging, target);
            done = true;
        } finally {
            if (!done) {
                fs.delete(staging, true);
            }
        }
    }

    /** Moves a completed staging file or folder onto {@code target}, replacing an older one. */
    public static void commit(FileSystem fs, Path staging, Path target) throws IOException {
        dropChecksums(fs, staging);
        if (fs.exists(target)) {
            Path old = new Path(target.getParent(), "_old-" + target.getName() + "-" + UUID.randomUUID());
            if (!fs.rename(target, old)) {
                throw new IOException("cannot move aside the previous " + target);
            }
            if (!fs.rename(staging, target)) {
                fs.rename(old, target);
                throw new IOException("cannot rename " + staging + " to " + target);
            }
            fs.delete(old, true);
        } else if (!fs.rename(staging, target)) {
            throw new IOException("cannot rename " + staging + " to " + target);
        }
    }

    /**
     * Deletes the {@code .name.crc} side files that Hadoop's checksummed local file system ({@code file://}) writes
     * beside every file, in {@code path} (a file or a folder, recursively). They are noise in a folder a user reads
     * with other tools, and a stale one makes Hadoop reject a file edited by hand; the data has no other use for
     * them. A no-op on file systems without side files (HDFS keeps its checksums in the datanodes).
     */
    public static void dropChecksums(FileSystem fs, Path path) throws IOException {
        if (!(fs instanceof ChecksumFileSystem checksummed)) {
            return;
        }
        FileSystem raw = checksummed.getRawFileSystem();
        if (raw.isFile(path)) {
            raw.delete(checksummed.getChecksumFile(path), false);
            return;
        }
        if (!raw.exists(path)) {
            return;
        }
        for (FileStatus st : raw.listStatus(path)) {
            if (st.isDirectory()) {
                dropChecksums(fs, st.getPath());
            } else if (ChecksumFileSystem.isChecksumFile(st.getPath())) {
                raw.delete(st.getPath(), false);
            }
        }
    }

    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }
}
