package dev.kiln.common.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.UUID;

/**
 * One run at a time per output: a lock file {@code <output>.lock} next to the output folder, created with
 * {@code create(path, overwrite = false)}, which fails when the file exists (atomic on HDFS; on the local file system
 * the file is created with {@code O_CREAT|O_EXCL}). It holds the holder (host, pid, user, job) and the start time, so
 * a refused run can say who holds it. The lock lives beside the output, not in it, because a first preprocess run
 * replaces the whole output folder by rename. On object stores (s3a) create-if-absent is not atomic: there, keep
 * one scheduler per output (e.g. Airflow's max_active_runs = 1) and treat the lock as a guard against mistakes.
 *
 * <p>Released by {@link #close()} (try-with-resources, so also on failure); a JVM killed with -9 leaves it behind:
 * check that the holder is gone, then delete the file or pass {@code --break-lock}.
 */
public final class OutputLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String SUFFIX = ".lock";

    /** Who holds a lock, as written in the lock file. {@code token} tells this holder's file from a later one. */
    public record Holder(String host, long pid, String user, String job, String started, String token) {
        static Holder current(String job) {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "unknown-host";
            }
            return new Holder(host, ProcessHandle.current().pid(), System.getProperty("user.name"), job,
                    Instant.now().toString(), UUID.randomUUID().toString());
        }

        String toJson() {
            ObjectNode n = JSON.createObjectNode();
            n.put("host", host).put("pid", pid).put("user", user).put("job", job).put("started", started).put("token", token);
            return n.toPrettyString() + "\n";
        }

        static Holder parse(String json) throws IOException {
            JsonNode n = JSON.readTree(json);
            if (n == null || !n.isObject()) {
                // HDFS shows a created file before its content is flushed: a loser may read the winner's empty file.
                throw new IOException("not a lock holder (empty or being written): " + json);
            }
            return new Holder(n.path("host").asText("?"), n.path("pid").asLong(-1), n.path("user").asText("?"),
                    n.path("job").asText("?"), n.path("started").asText("?"), n.path("token").asText(""));
        }

        @Override
        public String toString() {
            return "kiln " + job + " (pid " + pid + " on " + host + ", user " + user + ", started " + started + ")";
        }
    }

    /** The lock is held by another run (or left by one that died). The message says how to clear a stale one. */
    public static final class HeldException extends IOException {
        private final Path lockFile;
        private final Holder holder;

        HeldException(Path lockFile, Holder holder) {
            super("output is locked by another run: " + lockFile + " is held by "
                    + (holder == null ? "an unreadable holder" : holder.toString())
                    + ". If that process is gone (check the host and pid), delete " + lockFile
                    + " or rerun with --break-lock");
            this.lockFile = lockFile;
            this.holder = holder;
        }

        public Path lockFile() {
            return lockFile;
        }

        public Holder holder() {
            return holder;
        }
    }

    private final FileSystem fs;
    private final Path file;
    private final Holder holder;
    private boolean released;

    private OutputLock(FileSystem fs, Path file, Holder holder) {
        this.fs = fs;
        this.file = file;
        this.holder = holder;
    }

    /** {@code <parent>/<name>.lock} for the output folder {@code output}. */
    public static Path fileFor(Path output) {
        // Path(URI) keeps a trailing slash (a directory's java.nio URI has one); Path(String) normalises it away.
        output = new Path(output.toString());
        if (output.getParent() == null) {
            throw new IllegalArgumentException("cannot lock " + output + ": an output must not be a file system root");
        }
        return new Path(output.getParent(), output.getName() + SUFFIX);
    }

    /**
     * Takes the lock of {@code output} for {@code job}, or throws {@link HeldException}. With {@code breakLock} an
     * existing lock is deleted first (logged with its holder) and taken once more.
     */
    public static OutputLock acquire(FileSystem fs, Path output, String job, boolean breakLock) throws IOException {
        Path file = fileFor(fs.makeQualified(output));
        Holder me = Holder.current(job);
        if (tryCreate(fs, file, me)) {
            return new OutputLock(fs, file, me);
        }
        Holder other = readSettled(fs, file);
        if (breakLock) {
            LOG.warn("--break-lock: removing {} held by {}", file, other == null ? "an unreadable holder" : other);
            fs.delete(file, false);
            if (tryCreate(fs, file, me)) {
                return new OutputLock(fs, file, me);
            }
            other = read(fs, file);
        }
        throw new HeldException(file, other);
    }

    /** The holder written in a lock file, or null when it is unreadable (or vanished meanwhile). */
    public static Holder read(FileSystem fs, Path file) {
        try (FSDataInputStream in = fs.open(file)) {
            return Holder.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    /** {@link #read}, waiting up to a second for a holder that has created the file but not yet written it. */
    private static Holder readSettled(FileSystem fs, Path file) throws IOException {
        Holder h = read(fs, file);
        for (int i = 0; h == null && i < 10 && fs.exists(file); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            h = read(fs, file);
        }
        return h;
    }

    private static boolean tryCreate(FileSystem fs, Path file, Holder me) throws IOException {
        byte[] content = me.toJson().getBytes(StandardCharsets.UTF_8);
        fs.mkdirs(file.getParent());
        if (fs instanceof LocalFileSystem local) {
            // Hadoop's local create(overwrite = false) checks, then creates; CREATE_NEW is one atomic system call.
            try {
                Files.write(local.pathToFile(file).toPath(), content, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
                return true;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            }
        }
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(content);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            // Some file systems report an existing file with a plain IOException (e.g. HDFS's AlreadyBeingCreated).
            if (fs.exists(file)) {
                return false;
            }
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public Holder holder() {
        return holder;
    }

    /** Deletes the lock file if it is still this holder's (a --break-lock by someone else may have replaced it). */
    @Override
    public void close() throws IOException {
        if (released) {
            return;
        }
        released = true;
        Holder now = read(fs, file);
        if (now != null && !now.token().equals(holder.token())) {
            LOG.warn("{} is now held by {}, not by this run: left in place", file, now);
            return;
        }
        fs.delete(file, false);
    }
}
