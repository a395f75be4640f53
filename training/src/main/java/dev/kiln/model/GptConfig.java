package dev.kiln.model;

import java.io.Serializable;

/**
 * The shape of a decoder-only transformer (nanoGPT's names: {@code n_layer}, {@code n_head}, {@code n_embd}).
 * Vocabulary size and context length come from the token shards' manifest; the rest from {@code kiln.train.model}.
 * {@code tiedEmbeddings}: the LM head is the token embedding's matrix, without bias (GPT-2); otherwise a head with its
 * own weights and a bias (Kiln's models before December 2026).
 */
public record GptConfig(int vocabSize, int contextLength, int dModel, int layers, int heads, int mlpRatio,
                        boolean tiedEmbeddings) implements Serializable {

    /** An untied shape (the layout of earlier checkpoints). */
    public GptConfig(int vocabSize, int contextLength, int dModel, int layers, int heads, int mlpRatio) {
        this(vocabSize, contextLength, dModel, layers, heads, mlpRatio, false);
    }

    /** The same shape with the head tied (or not). */
    public GptConfig withTiedEmbeddings(boolean tied) {
        return new GptConfig(vocabSize, contextLength, dModel, layers, heads, mlpRatio, tied);
    }

    public GptConfig {
        check(vocabSize >= 2, "vocabulary size must be >= 2, got " + vocabSize);
        check(contextLength >= 1, "context length must be >= 1, got " + contextLength);
        check(dModel >= 1 && layers >= 1 && heads >= 1 && mlpRatio >= 1,
                "d-model, layers, heads and mlp-ratio must be >= 1");
        check(dModel % heads == 0, "d-model (" + dModel + ") must be a multiple of heads (" + heads + ")");
    }

    public int headSize() {
        return dModel / heads;
    }

    /**
     * Parameters that take part in matrix products, per token: the blocks (QKV 3C^2, projection C^2, MLP 2*r*C^2)
     * and the LM head (C*V). Embedding lookups are not matrix products and are excluded: counting them would inflate MFU.
     */
    public long matmulParameters() {
        long c = dModel;
        return layers * (4 * c * c + 2L * mlpRatio * c * c) + c * vocabSize;
    }

    /**
     * Matrix-product FLOPs to train on one token (forward + backward): 6 per matmul parameter, plus the
     * attention scores and weighted sum, 12 x layers x context x d (PaLM appendix B convention).
     */
    public double trainingFlopsPerToken() {
        return 6.0 * matmulParameters() + 12.0 * layers * (double) contextLength * dModel;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
