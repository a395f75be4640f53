package dev.kiln.jobs;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.evaluate.EvaluateConfig;
import dev.kiln.generate.GenerationConfig;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.tokenize.TokenizeConfig;
import dev.kiln.train.TrainConfig;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every example file under conf/ loads against the reference.conf of all modules (so none names a key that does not
 * exist) and every stage's typed record builds from it. Paths the files leave to the command line are given as -D.
 */
class ExampleConfigsTest {
    private static final Map<String, String> PATHS = Map.of(
            "kiln.preprocess.input.paths", "file:///corpus/*.txt",
            "kiln.preprocess.output.path", "file:///out/preprocessed",
            "kiln.tokenize.input", "file:///out/preprocessed",
            "kiln.tokenize.output", "file:///out/tokenized",
            "kiln.train.shards", "file:///out/tokenized",
            "kiln.train.output", "file:///out/pretrain");

    @ParameterizedTest
    @ValueSource(strings = {"local.conf", "cluster.conf", "demo.conf"})
    void exampleConfigBuildsEveryStageRecord(String name) {
        Path file = KilnCliAccess.repoRoot().resolve("conf").resolve(name);
        assertTrue(Files.isRegularFile(file), file.toString());
        Config config = KilnConfig.load(file.toString(), PATHS);
        PreprocessConfig.from(config);
        TokenizeConfig.from(config);
        TrainConfig.from(config);
        ClusterCheckJob.CheckConfig.from(config);
        EvaluateConfig.from(config);
        GenerationConfig.from(config);
    }

    @Test
    void sparkPropertiesFromConfigKeepTheirDottedNames() {
        Path file = KilnCliAccess.repoRoot().resolve("conf/local.conf");
        Map<String, String> props = JobRunner.sparkProperties(KilnConfig.load(file.toString(),
                Map.of("kiln.spark.conf.\"spark.executor.memory\"", "3g")));
        Assertions.assertEquals(Map.of("spark.sql.shuffle.partitions", "8",
                "spark.default.parallelism", "8", "spark.executor.memory", "3g"), props);
    }
}
