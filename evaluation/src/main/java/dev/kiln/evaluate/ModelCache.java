package dev.kiln.evaluate;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Models kept in an executor JVM for the length of one evaluation run, per checkpoint. A DL4J graph is not safe
 * for concurrent {@code output} calls, so a task borrows one instance and returns it; an executor with C cores
 * therefore builds at most C instances per checkpoint, once, however many tasks and batches it runs (never one
 * per task). A new run frees the models of earlier runs in this JVM.
 */
public final class ModelCache {
    private static final Map<String, ConcurrentLinkedDeque<ComputationGraph>> POOLS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> BUILT = new ConcurrentHashMap<>();

    private ModelCache() {
    }

    /** {@code key} is "runId/checkpoint"; {@code build} deserialises the broadcast model when no idle one is left. */
    public static ComputationGraph borrow(String runId, String key, Supplier<ComputationGraph> build) {
        String full = runId + "/" + key;
        POOLS.keySet().removeIf(k -> !k.startsWith(runId + "/"));
        BUILT.keySet().removeIf(k -> !k.startsWith(runId + "/"));
        ComputationGraph g = POOLS.computeIfAbsent(full, k -> new ConcurrentLinkedDeque<>()).pollFirst();
        if (g == null) {
            g = build.get();
            BUILT.computeIfAbsent(full, k -> new AtomicInteger()).incrementAndGet();
        }
        return g;
    }

    public static void release(String runId, String key, ComputationGraph model) {
        POOLS.computeIfAbsent(runId + "/" + key, k -> new ConcurrentLinkedDeque<>()).addFirst(model);
    }

    /** Instances built in this JVM for a run and checkpoint (what the tests check). */
    public static int built(String runId, String key) {
        AtomicInteger n = BUILT.get(runId + "/" + key);
        return n == null ? 0 : n.get();
    }

    /** Frees the models of a run in this JVM (the driver's, in local mode). */
    public static void evict(String runId) {
        POOLS.keySet().removeIf(k -> k.startsWith(runId + "/"));
    }
}
