package dev.kiln.generate;

import dev.kiln.model.GptInference;
import dev.kiln.model.KvCache;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.List;

/**
 * A Kiln GPT as a {@link LanguageModel} with a KV cache ({@link GptInference}): a window is run once (prefill), then
 * each appended token is one position through the model, attending to the cached keys and values of its row. Next to
 * {@link GraphModel} (one full forward of T positions per token), a new token costs one position's matrix products
 * plus attention over the window. Not safe for concurrent use: one instance per thread.
 */
public final class CachedModel implements LanguageModel {
    private final GptInference inference;

    public CachedModel(ComputationGraph graph) {
        this.inference = new GptInference(graph);
    }

    /** The cached path where the graph's layers have it, else {@link GraphModel} (a full forward per token). */
    public static LanguageModel of(ComputationGraph graph) {
        return GptInference.supports(graph) ? new CachedModel(graph) : new GraphModel(graph);
    }

    @Override
    public int contextLength() {
        return inference.shape().contextLength();
    }

    @Override
    public int vocabSize() {
        return inference.shape().vocabSize();
    }

    /** Each window as a prefill into a fresh cache. */
    @Override
    public double[][] nextLogits(List<int[]> windows) {
        int b = windows.size();
        int[] rows = new int[b];
        boolean[] fresh = new boolean[b];
        for (int i = 0; i < b; i++) {
            rows[i] = i;
            fresh[i] = true;
        }
        return decoder(b).extend(rows, windows.toArray(new int[0][]), fresh);
    }

    @Override
    public Decoder decoder(int rows) {
        KvCache cache = inference.newCache(rows);
        int[] length = new int[rows]; // positions held per row
        return (r, tokens, fresh) -> {
            int[] from = new int[r.length];
            for (int i = 0; i < r.length; i++) {
                from[i] = fresh[i] ? 0 : length[r[i]];
                length[r[i]] = from[i] + tokens[i].length;
            }
            return inference.forward(cache, r, tokens, from);
        };
    }
}
