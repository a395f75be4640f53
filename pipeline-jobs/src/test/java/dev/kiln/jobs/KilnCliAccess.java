package dev.kiln.jobs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@code bin/kiln} as a user would, from the repository root, for the integration tests. */
public final class KilnCliAccess {
    public record Result(int exitCode, String output) {
    }

    static Path repoRoot() {
        Path p = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("bin/kiln"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find bin/kiln above " + System.getProperty("basedir"));
        }
        return p;
    }

    /** {@code bin/kiln ARGS} from the repository root with {@code env}, output and errors merged, not started. */
    static ProcessBuilder command(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(repoRoot().resolve("bin/kiln").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repoRoot().toFile()).redirectErrorStream(true);
        pb.environment().remove("SPARK_HOME");
        pb.environment().remove("KILN_MASTER");
        pb.environment().putAll(env);
        return pb;
    }

    public static Result run(Map<String, String> env, int timeoutSeconds, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = command(env, args);
        Path log = Files.createTempFile("kiln-cli-", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bin/kiln " + String.join(" ", args) + " did not finish in " + timeoutSeconds + " s:\n" + Files.readString(log));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        return new Result(p.exitValue(), out);
    }
}
