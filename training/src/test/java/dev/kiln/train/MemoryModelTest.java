package dev.kiln.train;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryModelTest {
    private static final long GB = 1L << 30;

    private static MemoryModel model(GptConfig shape, int batch, int workers) {
        return new MemoryModel(shape, batch, workers, true, 64, false, false);
    }

    private static MemoryModel recomputing(GptConfig shape, int batch, int workers) {
        return new MemoryModel(shape, batch, workers, true, 64, false, true);
    }

    @Test
    void parameterCountIsTheBuiltModels() {
        GptConfig shape = new GptConfig(300, 32, 48, 3, 4, 4);
        assertEquals(GptModel.build(shape, new NoOp(), 0, 1, DataType.FLOAT).numParams(), model(shape, 1, 1).params());
        GptConfig tied = shape.withTiedEmbeddings(true);
        assertEquals(GptModel.build(tied, new NoOp(), 0, 1, DataType.FLOAT).numParams(), model(tied, 1, 1).params());
        GptConfig noBias = shape.withHead(false, false);
        assertEquals(GptModel.build(noBias, new NoOp(), 0, 1, DataType.FLOAT).numParams(), model(noBias, 1, 1).params());
        assertEquals(model(shape, 1, 1).params() - 300, model(noBias, 1, 1).params(), "the bias is V = 300 parameters");
        assertEquals(136_206_848L, model(new GptConfig(32768, 1024, 768, 12, 12, 4), 1, 1).params(), "GPT-2 small's shape");
    }

    /**
     * Shapes outside those the coefficients were fitted on, each trained 3 steps in a fresh JVM, with activation
     * checkpointing or without: the estimate of one replica (state + activations) is within 30% of the resident
     * memory the JVM gained.
     */
    @ParameterizedTest
    @CsvSource({"4096, 256, 192, 3, 6, 4, false", "1024, 512, 128, 2, 4, 8, false",
            "1024, 512, 128, 2, 4, 8, true", "8192, 1024, 512, 8, 8, 1, true"})
    void replicaEstimateIsWithin30PercentOfTheMeasuredPeak(int v, int t, int c, int l, int h, int b, boolean recompute)
            throws IOException, InterruptedException {
        GptConfig shape = new GptConfig(v, t, c, l, h, 4);
        long estimate = (recompute ? recomputing(shape, b, 1) : model(shape, b, 1)).replicaBytes();
        long measured = recompute ? probe(v, t, c, l, h, b, "recompute") : probe(v, t, c, l, h, b);
        double ratio = (double) estimate / measured;
        assertTrue(ratio > 0.7 && ratio < 1.3, "estimate " + estimate + " vs measured " + measured + " (" + ratio + ")");
    }

    private static long probe(Object... shape) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), MemoryProbe.class.getName()));
        for (Object s : shape) {
            cmd.add(String.valueOf(s));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        String line = out.lines().filter(x -> x.startsWith("grown=")).findFirst().orElseThrow(() -> new AssertionError(out));
        return Long.parseLong(line.substring("grown=".length()));
    }

    /**
     * The runs reported on a 24 GiB machine: GPT-2 small with 2 workers and an 18g driver heap (JavaCPP's default
     * off-heap limit equals the heap; the kernel killed it) is refused, naming the key and activation
     * checkpointing; 1 worker with 8g (7.08 GB measured) starts.
     */
    @Test
    void refusesTheRunTheKernelKilledAndAcceptsTheOneThatRan() {
        GptConfig gpt2 = new GptConfig(32768, 1024, 768, 12, 12, 4);
        long machine = 24 * GB;
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> model(gpt2, 1, 2).check(new MemoryModel.Given(18 * GB, 18 * GB, machine, 0, 0, 0)));
        assertTrue(e.getMessage().contains("spark.driver.memory"), e.getMessage());
        assertTrue(e.getMessage().contains("kiln.train.recompute-activations"), e.getMessage());
        assertDoesNotThrow(() -> model(gpt2, 1, 1).check(new MemoryModel.Given(8 * GB, 8 * GB, machine, 0, 0, 0)));
        long oneReplica = model(gpt2, 1, 1).replicaBytes();
        assertTrue(oneReplica > 5 * GB && oneReplica < 8 * GB, "GPT-2 small at batch 1: " + oneReplica);

        // Two replicas and the global model beyond ND4J's off-heap limit: the message names JavaCPP's key.
        InvalidConfigException offHeap = assertThrows(InvalidConfigException.class,
                () -> model(gpt2, 1, 2).check(new MemoryModel.Given(8 * GB, 12 * GB, machine, 0, 0, 0)));
        assertTrue(offHeap.getMessage().contains("org.bytedeco.javacpp.maxbytes"), offHeap.getMessage());
        // With activation checkpointing both replicas, the driver's global model and its heap fit in 20 GB.
        MemoryModel twoWorkers = recomputing(gpt2, 1, 2);
        assertDoesNotThrow(() -> twoWorkers.check(new MemoryModel.Given(8 * GB, 12 * GB, machine, 0, 0, 0)));
        assertThrows(InvalidConfigException.class, () -> twoWorkers.check(new MemoryModel.Given(5 * GB, 12 * GB, machine, 0, 0, 0)),
                "a 5g heap ran out in the second round");
        assertTrue(twoWorkers.localHeapBytes() + twoWorkers.localOffHeapBytes() < 20e9,
                twoWorkers.localHeapBytes() + " + " + twoWorkers.localOffHeapBytes());
        // On a cluster, an executor of 4g cannot hold a GPT-2-small replica's off-heap state.
        InvalidConfigException executor = assertThrows(InvalidConfigException.class,
                () -> model(gpt2, 1, 2).check(new MemoryModel.Given(8 * GB, 8 * GB, machine, 4 * GB, 4 * GB, 1)));
        assertTrue(executor.getMessage().contains("org.bytedeco.javacpp.maxbytes"), executor.getMessage());
    }
}
