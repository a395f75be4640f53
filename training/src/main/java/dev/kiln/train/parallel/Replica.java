package dev.kiln.train.parallel;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.model.PositionEmbedding;
import dev.kiln.train.data.BatchSource;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One copy of the model with its optimizer, training on one stream of minibatches. The single-JVM trainer has one;
 * with parameter averaging every Spark task keeps one per worker in its executor (built once, then only its weights
 * and optimizer state are overwritten each round).
 */
public final class Replica {
    private final ComputationGraph model;
    private final GlobalNormClipping clipping;
    private final RowFormat format;

    private Replica(ComputationGraph model, GlobalNormClipping clipping, RowFormat format) {
        this.model = model;
        this.clipping = clipping;
        this.format = format;
    }

    /** A freshly initialised replica (same seed, same weights everywhere), AdamW on the stage's {@code learningRate}. */
    public static Replica create(GptConfig shape, EngineConfig cfg, ISchedule learningRate) {
        setThreads(cfg.nd4jThreads());
        ComputationGraph model = GptModel.build(shape, cfg.adam(learningRate), cfg.optimizer().weightDecay(), cfg.seed(),
                DataType.FLOAT);
        return wrap(model, cfg);
    }

    /** Wraps an existing language model (a checkpoint's), training on next-token rows. */
    public static Replica wrap(ComputationGraph model, EngineConfig cfg) {
        int t = ((PositionEmbedding) model.getLayer(GptModel.POSITION_EMBEDDING).conf().getLayer()).getContextLength();
        return wrap(model, cfg, new RowFormat.NextToken(t), List.of());
    }

    /**
     * Wraps any model that trains on rows of {@code format}. The layers named in {@code frozenLayers} keep their
     * weights: their gradients are zeroed before clipping and the update (their weight decay must be off in the
     * model's configuration, see {@link dev.kiln.model.ClassifierModel#withoutWeightDecay}).
     */
    public static Replica wrap(ComputationGraph model, EngineConfig cfg, RowFormat format, List<String> frozenLayers) {
        setThreads(cfg.nd4jThreads());
        model.getUpdater(); // allocates the optimizer state so it can be exported before the first step
        List<INDArray> frozen = new ArrayList<>();
        for (String name : frozenLayers) {
            frozen.add(model.getLayer(name).getGradientsViewArray());
        }
        GlobalNormClipping clipping = new GlobalNormClipping(cfg.optimizer().gradClip(), format.lossTermsPerRow(), frozen);
        model.setListeners(clipping);
        GptModel.recomputeActivations(model, cfg.recomputeActivations());
        return new Replica(model, clipping, format);
    }

    static void setThreads(int threads) {
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    public ComputationGraph model() {
        return model;
    }

    /** The global step the next update will be (drives the learning-rate schedule and Adam's bias correction). */
    public long step() {
        return model.getConfiguration().getIterationCount();
    }

    public void setStep(long step) {
        model.getConfiguration().setIterationCount((int) step);
    }

    /**
     * {@code steps} optimizer steps on minibatches from {@code source}. With {@code prefetch > 0} a helper thread
     * reads exactly the round's minibatches ahead into a queue of that size, so the source's position after the
     * round is exact (nothing is read beyond the round).
     */
    public RoundStats train(BatchSource source, int steps, int prefetch) {
        double[] losses = new double[steps];
        double normSum = 0;
        long tokens = 0;
        long start = System.nanoTime();
        Prefetch batches = new Prefetch(source, steps, prefetch);
        try {
            for (int i = 0; i < steps; i++) {
                int[][] rows = batches.next();
                // The step's data loss: the score fit computes for the minibatch (with the parameters before the
                // update) less the weight-decay term DL4J adds to it, taken before fit for the same parameters.
                double decay = model.calcRegularizationScore(true);
                model.fit(format.dataSet(rows));
                losses[i] = (model.score() - decay) / format.lossTermsPerRow();
                normSum += clipping.lastNorm();
                tokens += format.tokens(rows);
            }
        } finally {
            batches.close();
        }
        return new RoundStats(1, steps, tokens, losses, normSum, (System.nanoTime() - start) / 1e9);
    }

    public float[] params() {
        return model.params().toFloatVector();
    }

    public void setParams(float[] params) {
        model.params().assign(Nd4j.createFromArray(params));
    }

    public float[] optimizerState() {
        INDArray state = model.getUpdater().getStateViewArray();
        return state == null ? new float[0] : state.toFloatVector();
    }

    public void setOptimizerState(float[] state) {
        INDArray view = model.getUpdater().getStateViewArray();
        if (view == null || view.length() != state.length) {
            throw new IllegalArgumentException("optimizer state has " + state.length + " values, the model expects "
                    + (view == null ? 0 : view.length()));
        }
        view.assign(Nd4j.createFromArray(state).reshape(view.shape()));
    }

    /** Reads a round's minibatches on a helper thread (or inline when prefetch is 0). */
    private static final class Prefetch implements AutoCloseable {
        private static final int[][] FAILED = new int[0][];
        private final BatchSource source;
        private final BlockingQueue<int[][]> queue;
        private final Thread thread;
        private volatile Throwable failure;

        Prefetch(BatchSource source, int count, int depth) {
            this.source = source;
            if (depth == 0) {
                queue = null;
                thread = null;
                return;
            }
            queue = new ArrayBlockingQueue<>(depth);
            thread = new Thread(() -> {
                try {
                    for (int i = 0; i < count; i++) {
                        queue.put(source.next());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) {
                    failure = t;
                    queue.offer(FAILED);
                }
            }, "kiln-prefetch");
            thread.setDaemon(true);
            thread.start();
        }

        int[][] next() {
            if (queue == null) {
                return source.next();
            }
            try {
                int[][] rows = queue.take();
                if (rows == FAILED) {
                    throw new IllegalStateException("reading training data failed: " + failure, failure);
                }
                return rows;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for training data", e);
            }
        }

        @Override
        public void close() {
            if (thread != null) {
                thread.interrupt();
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
