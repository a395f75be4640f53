package dev.kiln.generate;

import java.util.List;

/** What decoding needs from a model: next-token logits after each of a batch of token windows. */
public interface LanguageModel {
    /** The longest window the model reads (its fixed context T). */
    int contextLength();

    int vocabSize();

    /**
     * For each window (1..T ids), the logits of the next token over the vocabulary, {@code [B][V]}: raw logits, as
     * Hugging Face's logits processors see them (the repetition penalty depends on their sign; log-probabilities,
     * logits shifted by a constant per window, would give the same result for temperature, top-k and top-p only).
     */
    double[][] nextLogits(List<int[]> windows);

    /**
     * A decoder for up to {@code rows} sequences at once. This default keeps each row's window and runs
     * {@link #nextLogits} over all of it at every step (no cache: up to T positions per new token); a model with a
     * KV cache runs only the new positions.
     */
    default Decoder decoder(int rows) {
        return new Decoder.Recomputing(this, rows);
    }
}
