package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.jobs.KilnCliAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln evaluate} gives the same language-model numbers on a real 2-worker standalone cluster (separate executor
 * JVMs) as on {@code local[2]}: the sums are accumulated in double per partition and merged in a fixed order, so they
 * must agree to 1e-9 relative. Inputs are made by {@code bin/kiln} itself: 30 SOTU speeches, a 512-token BPE and a
 * tiny model pre-trained for 20 steps.
 */
class EvaluateClusterIT {
    @Test
    void sameMetricsOnTheStandaloneClusterAsOnLocal(@TempDir Path dir) throws Exception {
        Map<String, String> env = Map.of("KILN_RUN_DIR", dir.toString(), "KILN_DRIVER_MEMORY", "1g");
        String sotu = SampleCorpora.sotu().toString();
        run(env, 300, "preprocess", "--master", "local[2]", "-Dkiln.preprocess.input.paths=" + sotu + "/18[0-2]*.txt",
                "-Dkiln.preprocess.output.path=" + dir.resolve("pre"));
        run(env, 300, "tokenize", "--master", "local[2]", "-Dkiln.tokenize.input=" + dir.resolve("pre"),
                "-Dkiln.tokenize.output=" + dir.resolve("tok"), "-Dkiln.tokenize.tokenizer.vocab-size=512",
                "-Dkiln.tokenize.context-length=64", "-Dkiln.tokenize.validation-fraction=0.3");
        run(env, 300, "pretrain", "--master", "local[2]", "-Dkiln.train.shards=" + dir.resolve("tok"),
                "-Dkiln.train.output=" + dir.resolve("pretrain"), "-Dkiln.train.steps=20", "-Dkiln.train.batch-size=8",
                "-Dkiln.train.model.layers=1", "-Dkiln.train.model.d-model=32", "-Dkiln.train.model.heads=2",
                "-Dkiln.train.optimizer.warmup-steps=5", "-Dkiln.train.validation.every=0", "-Dkiln.train.checkpoint.every=0");
        String[] evaluate = {"evaluate", "-Dkiln.evaluate.checkpoints=" + dir.resolve("pretrain"),
                "-Dkiln.evaluate.shards=" + dir.resolve("tok"), "-Dkiln.evaluate.output=" + dir.resolve("reports"),
                "-Dkiln.evaluate.generation.from-validation=0"};
        run(env, 300, concat(evaluate, "--master", "local[2]", "-Dkiln.evaluate.run-name=local"));

        var started = KilnCliAccess.run(env, 180, "cluster", "start", "--workers", "2", "--cores", "1", "--memory", "1536m");
        try {
            assertEquals(0, started.exitCode(), started.output());
            String master = Files.readString(dir.resolve("cluster/master-url")).trim();
            run(env, 600, concat(evaluate, "--master", master, "--spark-conf", "spark.executor.memory=1g",
                    "-Dkiln.evaluate.run-name=cluster"));
        } finally {
            var stopped = KilnCliAccess.run(env, 120, "cluster", "stop");
            assertEquals(0, stopped.exitCode(), stopped.output());
        }

        JsonNode local = new ObjectMapper().readTree(dir.resolve("reports/local/report.json").toFile());
        JsonNode cluster = new ObjectMapper().readTree(dir.resolve("reports/cluster/report.json").toFile());
        assertTrue(cluster.toString().contains("spark://127.0.0.1:"), "the cluster report names its master");
        JsonNode a = local.path("results").path(0);
        JsonNode b = cluster.path("results").path(0);
        assertEquals(a.path("tokens").asLong(), b.path("tokens").asLong());
        assertTrue(a.path("tokens").asLong() > 1000, "validation tokens scored: " + a.path("tokens"));
        assertEquals(4, a.path("scorers").size(), a.toString());
        for (int i = 0; i < a.path("scorers").size(); i++) {
            double x = a.path("scorers").path(i).path("nll_sum").asDouble();
            double y = b.path("scorers").path(i).path("nll_sum").asDouble();
            assertEquals(x, y, 1e-9 * Math.abs(x), a.path("scorers").path(i).path("name").asText());
        }
    }

    private static void run(Map<String, String> env, int timeout, String... args) throws Exception {
        var r = KilnCliAccess.run(env, timeout, args);
        assertEquals(0, r.exitCode(), "bin/kiln " + String.join(" ", args) + "\n" + r.output());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
