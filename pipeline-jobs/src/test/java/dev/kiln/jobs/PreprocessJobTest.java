package dev.kiln.jobs;

import dev.kiln.preprocess.PreprocessConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreprocessJobTest {
    private static final String IN = "-Dkiln.preprocess.input.paths=/tmp/in";
    private static final String OUT = "-Dkiln.preprocess.output.path=/tmp/out";

    private static PreprocessConfig parse(String... args) {
        return PreprocessConfig.from(CommandLine.parse(PreprocessJob.withFlags(args)).config());
    }

    @Test
    void reprocessFlagIsTheConfigKey() {
        assertFalse(parse(IN, OUT).reprocess(), "reference.conf: reprocess = false");
        assertTrue(parse(IN, OUT, "--reprocess").reprocess());
        assertTrue(parse(IN, OUT, "-Dkiln.preprocess.reprocess=true").reprocess());
    }
}
