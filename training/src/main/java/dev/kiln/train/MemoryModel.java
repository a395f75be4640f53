package dev.kiln.train;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.model.GptConfig;
import dev.kiln.train.parallel.EngineConfig;

import java.util.Locale;

/**
 * What a training run needs in memory, before it starts (float32 throughout; P parameters, batch B per worker,
 * context T, width C, L blocks, H heads, vocabulary V):
 * <pre>
 *   weights 4P + gradients 4P + AdamW moments 8P                       = 16P bytes, off-heap, per replica
 *   activations 4 x L x (74 x B x T x C + 2.4 x B x H x T x T) + 96 MiB   off-heap (ND4J workspaces), per replica;
 *     with recompute-activations: 4 x (L x 8.4 x B x T x C + 74 x B x T x C + 2.4 x B x H x T x T) + 96 MiB
 *     (every block's input and output, and one block's intermediates at a time)
 *   a round's travelling state S = 4P (weights), 12P with averaged moments
 *   executor heap: 2S (the broadcast chunks and their serialized blocks) + 2 chunks + 300 MiB (Spark's reserve)
 *   local[N]:      the driver's heap + 2S (the tasks' copy of the broadcast, the means) + 2 chunks per worker
 *   driver heap:   2S + 1 chunk + 300 MiB (+ 4P of DiLoCo momentum); off-heap: its global model (16P) and
 *                  a validation pass (inference: one block's intermediates at a time), and in local mode every
 *                  replica as well
 * </pre>
 * The activation coefficients are a least-squares fit of the resident memory a fresh JVM gained over three
 * training steps on eight shapes (T 128-1024, C 128-768, L 1-8, H 4-12, B 1-16), each within 0.89-1.25x of it:
 * per block, about 74 floats per token and channel (q, k, v, the 4C MLP hidden before and after GELU, LayerNorm
 * outputs, their gradients and DL4J's [B, C, T] layout copies) and 2.4 per attention score (scores and
 * probabilities). The LM head works in blocks of rows, so V adds no [B T, V] term. With activation checkpointing
 * the 8.4 floats per token, channel and block that stay are a fit of GPT-2 small's shape (the blocks' inputs and
 * outputs in DL4J's layout and their row copies).
 */
public record MemoryModel(GptConfig shape, int batch, int workers, boolean averageMoments, int chunkMegabytes,
                          boolean nesterov, boolean recompute) {
    static final double FLOATS_PER_TOKEN_CHANNEL = 74;
    /** Per block, with activation checkpointing: what stays for the whole step (see the class comment). */
    static final double KEPT_FLOATS_PER_TOKEN_CHANNEL = 8.4;
    static final double FLOATS_PER_ATTENTION_SCORE = 2.4;
    static final long MiB = 1L << 20;
    static final long WORKSPACE_BASE = 96 * MiB;
    static final long SPARK_RESERVED_HEAP = 300 * MiB;

    public static MemoryModel of(GptConfig shape, TrainConfig cfg) {
        return new MemoryModel(shape, cfg.batchSize(), cfg.parallel().workers(), cfg.parallel().averageOptimizerState(),
                cfg.parallel().chunkMegabytes(), cfg.parallel().outerOptimizer() == EngineConfig.OuterOptimizer.NESTEROV,
                cfg.recomputeActivations());
    }

    /**
     * Parameters of the GPT {@link dev.kiln.model.GptModel} builds: embeddings, L blocks, final LayerNorm, head (untied:
     * W, and b with a head bias).
     */
    public long params() {
        long v = shape.vocabSize(), t = shape.contextLength(), c = shape.dModel(), hidden = (long) shape.mlpRatio() * c;
        long block = 2 * c + (c * 3 * c + 3 * c) + (c * c + c) + 2 * c + (c * hidden + hidden) + (hidden * c + c);
        long head = shape.tiedEmbeddings() ? 0 : c * v + (shape.headBias() ? v : 0); // a tied head uses wte's matrix
        return v * c + t * c + shape.layers() * block + 2 * c + head;
    }

    /** Weights, gradients and AdamW moments of one replica. */
    public long stateBytes() {
        return 16 * params();
    }

    /** Activations and workspaces of one training replica. */
    public long activationBytes() {
        double b = batch, t = shape.contextLength(), c = shape.dModel();
        return recompute ? (long) (4 * shape.layers() * KEPT_FLOATS_PER_TOKEN_CHANNEL * b * t * c) + blockActivationBytes()
                : shape.layers() * (blockActivationBytes() - WORKSPACE_BASE) + WORKSPACE_BASE;
    }

    /** One block's intermediates for its backward pass (plus the workspaces' base). */
    long blockActivationBytes() {
        double b = batch, t = shape.contextLength(), c = shape.dModel(), h = shape.heads();
        return (long) (4 * (FLOATS_PER_TOKEN_CHANNEL * b * t * c + FLOATS_PER_ATTENTION_SCORE * b * h * t * t)) + WORKSPACE_BASE;
    }

    /** Off-heap bytes of one training replica. */
    public long replicaBytes() {
        return stateBytes() + activationBytes();
    }

    /** Bytes of one copy of what a round moves: weights, plus both moments when they are averaged. */
    public long travellingBytes() {
        return (averageMoments ? 12 : 4) * params();
    }

    long chunkBytes() {
        return Math.min(travellingBytes(), chunkMegabytes * MiB);
    }

    /** Heap an executor JVM needs for {@code replicas} task slots (beside Spark's own use of it). */
    public long executorHeapBytes(int replicas) {
        return SPARK_RESERVED_HEAP + 2 * travellingBytes() + 2L * replicas * chunkBytes();
    }

    public long driverHeapBytes() {
        return workers == 1 ? SPARK_RESERVED_HEAP
                : SPARK_RESERVED_HEAP + 2 * travellingBytes() + chunkBytes() + (nesterov ? 4 * params() : 0);
    }

    /**
     * The driver's own off-heap bytes: with one worker, the replica; else the global model (weights, and room for
     * gradients and moments) and its validation pass, an inference that holds one block's intermediates at a time.
     */
    public long driverOffHeapBytes() {
        return workers == 1 ? replicaBytes() : stateBytes() + blockActivationBytes();
    }

    /** A few lines for {@code --dry-run}. */
    public String describe() {
        return String.format(Locale.ROOT, "  memory (estimate): %,d parameters; per replica %s off-heap (weights %s, gradients %s, "
                        + "AdamW moments %s, activations %s at batch %d%s)%n"
                        + "    per executor with one task slot: heap %s, off-heap %s; a round moves %s per copy (%s)%n"
                        + "    driver: heap %s, off-heap %s%s%n",
                params(), gb(replicaBytes()), gb(4 * params()), gb(4 * params()), gb(8 * params()), gb(activationBytes()),
                batch, recompute ? ", recomputed" : "", gb(executorHeapBytes(1)), gb(replicaBytes()), gb(travellingBytes()),
                averageMoments ? "weights and moments" : "weights only", gb(driverHeapBytes()), gb(driverOffHeapBytes()),
                workers > 1 ? String.format(Locale.ROOT, "; local[N] runs all %d replicas in the driver: heap %s, off-heap %s",
                        workers, gb(localHeapBytes()), gb(localOffHeapBytes())) : "");
    }

    /**
     * Everything in one JVM ({@code local[N]}): the driver's heap, the tasks' copy of the broadcast state (Spark's
     * block manager gives them a deserialized copy when its storage memory could not keep the driver's), the means
     * coming back, and the executors' chunks (one per worker slot). GPT-2 small's shape (S = 1.32 GB) ran out of a
     * 5g heap in its second round and ran with 8g.
     */
    public long localHeapBytes() {
        return workers == 1 ? driverHeapBytes() : driverHeapBytes() + 2 * travellingBytes() + 2L * workers * chunkBytes();
    }

    public long localOffHeapBytes() {
        return workers == 1 ? replicaBytes() : driverOffHeapBytes() + (long) workers * replicaBytes();
    }

    /**
     * What the JVMs were given; {@code executorMemory} and {@code executorOffHeap} are 0 when everything runs in this
     * JVM ({@code workers = 1} or a {@code local[N]} master).
     */
    public record Given(long heap, long offHeap, long physical, long executorMemory, long executorOffHeap, int executorCores) {
    }

    /**
     * Refuses (exit 2) a run that cannot fit what it was given, naming the keys to change; returns quietly otherwise.
     * In one JVM: its heap against the driver's and every local replica's heap needs, JavaCPP's off-heap limit
     * against the replicas, and heap + off-heap against the machine's memory (the kernel's OOM killer otherwise).
     * On a cluster: each executor's heap and off-heap limit against its task slots' replicas.
     */
    public void check(Given given) {
        String fix = (recompute ? "" : "; set kiln.train.recompute-activations = true (one block's activations at a time)")
                + "; lower kiln.train.batch-size, parallel.workers or the model (kiln.train.model.*), or give more memory";
        if (given.executorMemory() == 0) {
            require(localHeapBytes() <= given.heap(), "spark.driver.memory", "the driver JVM's heap (--driver-memory) is "
                    + gb(given.heap()) + ", this run needs " + gb(localHeapBytes()) + fix);
            require(localOffHeapBytes() <= given.offHeap(), "org.bytedeco.javacpp.maxbytes", "ND4J's off-heap limit is "
                    + gb(given.offHeap()) + ", this run's " + (workers > 1 ? workers + " replicas and global model need " : "model needs ")
                    + gb(localOffHeapBytes()) + fix);
            require(given.heap() + localOffHeapBytes() <= given.physical(), "spark.driver.memory",
                    "heap " + gb(given.heap()) + " + off-heap " + gb(localOffHeapBytes()) + " is more than this machine's "
                            + gb(given.physical()) + fix + " (a smaller --driver-memory leaves more to ND4J)");
            return;
        }
        int slots = Math.max(1, given.executorCores());
        require(executorHeapBytes(slots) <= given.executorMemory(), "spark.executor.memory", "an executor's heap is "
                + gb(given.executorMemory()) + ", " + slots + " task slot(s) need " + gb(executorHeapBytes(slots)) + fix);
        require((long) slots * replicaBytes() <= given.executorOffHeap(), "org.bytedeco.javacpp.maxbytes",
                "an executor's ND4J off-heap limit (spark.executor.extraJavaOptions; JavaCPP's default is the heap) is "
                        + gb(given.executorOffHeap()) + ", " + slots + " replica(s) need " + gb(slots * replicaBytes()) + fix);
        require(driverHeapBytes() <= given.heap(), "spark.driver.memory", "the driver's heap is " + gb(given.heap())
                + ", averaging needs " + gb(driverHeapBytes()) + fix);
        require(driverOffHeapBytes() <= given.offHeap(), "org.bytedeco.javacpp.maxbytes", "the driver's ND4J off-heap limit is "
                + gb(given.offHeap()) + ", its global model needs " + gb(driverOffHeapBytes()) + fix);
    }

    private static void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw new InvalidConfigException(key, null, "the run does not fit: " + problem);
        }
    }

    static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
