package dev.kiln.generate;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.List;

/**
 * A Kiln GPT ({@link GptModel}) as a {@link LanguageModel}. The graph's context T is fixed when it is built, so a
 * window shorter than T is padded at the end; attention is causal, so the padding cannot change the distribution
 * read at the window's last real position. Each call is one full forward of B x T positions, with no KV cache: the
 * reference the cached path ({@link CachedModel}) is tested against, and the path for graphs whose layers have no
 * cached inference (the SameDiff reference layers). A graph is not safe for concurrent forwards: use one instance per thread.
 */
public final class GraphModel implements LanguageModel {
    private final ComputationGraph graph;
    private final int contextLength;
    private final int vocabSize;

    public GraphModel(ComputationGraph graph) {
        this.graph = graph;
        GptConfig shape = GptModel.shapeOf(graph); // tied (TokenEmbedding) or untied (EmbeddingSequenceLayer)
        this.contextLength = shape.contextLength();
        this.vocabSize = shape.vocabSize();
    }

    public ComputationGraph graph() {
        return graph;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public double[][] nextLogits(List<int[]> windows) {
        int b = windows.size();
        // GptModel reads rows of T + 1 ids (inputs are positions 0..T-1); the padding id is arbitrary.
        int[][] rows = new int[b][contextLength + 1];
        int[] last = new int[b];
        for (int i = 0; i < b; i++) {
            int[] w = windows.get(i);
            if (w.length < 1 || w.length > contextLength) {
                throw new IllegalArgumentException("window " + i + " has " + w.length + " ids, expected 1.." + contextLength);
            }
            System.arraycopy(w, 0, rows[i], 0, w.length);
            last[i] = w.length - 1;
        }
        return GptModel.nextTokenLogits(graph, rows, last);
    }
}
