package dev.kiln.train.parallel;

import dev.kiln.train.data.BatchSource;
import dev.kiln.train.data.BatchSourceFactory;
import dev.kiln.train.data.DataPosition;

/** Training in this JVM: the global replica trains directly on the whole stream. */
public final class LocalRounds implements RoundRunner {
    private final BatchSource source;
    private final int prefetch;

    public LocalRounds(BatchSourceFactory data, EngineConfig cfg) {
        this.source = data.open(0, 1, cfg.batchSize());
        this.prefetch = cfg.parallel().prefetch();
    }

    @Override
    public RoundStats run(Replica global, int steps) {
        return global.train(source, steps, prefetch);
    }

    @Override
    public int maxRoundSteps() {
        return Integer.MAX_VALUE;
    }

    @Override
    public DataPosition position() {
        return source.position();
    }

    @Override
    public float[] outerState() {
        return null;
    }

    @Override
    public void restore(DataPosition position, float[] outerState) {
        source.seek(position);
    }

    @Override
    public void close() {
        source.close();
    }
}
