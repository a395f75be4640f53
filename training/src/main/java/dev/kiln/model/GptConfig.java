package dev.kiln.model;

import java.io.Serializable;

/**
 * The shape of a decoder-only transformer (nanoGPT's names: {@code n_layer}, {@code n_head}, {@code n_embd}).
 * Vocabulary size and context length come from the token shards' manifest; the rest from {@code kiln.train.model}.
 * {@code tiedEmbeddings}: the LM head is the token embedding's matrix, without bias (GPT-2); otherwise a head with its
 * own weights {@code [C, V]}, with a bias {@code [V]} when {@code headBias} (Kiln's models before December 2026) or
 * without (Hugging Face's untied GPT-2, {@code tie_word_embeddings = false}). A tied head never has a bias.
 */
public record GptConfig(int vocabSize, int contextLength, int dModel, int layers, int heads, int mlpRatio,
                        boolean tiedEmbeddings, boolean headBias) implements Serializable {

    /** An untied shape with a head bias (the layout of earlier checkpoints). */
    public GptConfig(int vocabSize, int contextLength, int dModel, int layers, int heads, int mlpRatio) {
        this(vocabSize, contextLength, dModel, layers, heads, mlpRatio, false, true);
    }

    /** Tied (no bias) or untied with a bias: the two heads Kiln had before the bias became optional. */
    public GptConfig(int vocabSize, int contextLength, int dModel, int layers, int heads, int mlpRatio,
                     boolean tiedEmbeddings) {
        this(vocabSize, contextLength, dModel, layers, heads, mlpRatio, tiedEmbeddings, !tiedEmbeddings);
    }

    /** The same shape with the head tied (no bias) or untied with a bias. */
    public GptConfig withTiedEmbeddings(boolean tied) {
        return withHead(tied, !tied);
    }

    /** The same shape with this head: tied (then {@code bias} must be false) or untied, with or without a bias. */
    public GptConfig withHead(boolean tied, boolean bias) {
        return new GptConfig(vocabSize, contextLength, dModel, layers, heads, mlpRatio, tied, bias);
    }

    public GptConfig {
        check(!(tiedEmbeddings && headBias), "a tied LM head (the token embedding's matrix) has no bias");
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
