package dev.kiln.generate;

import java.util.List;

/** What decoding needs from a model: next-token log-probabilities after each of a batch of token windows. */
public interface LanguageModel {
    /** The longest window the model reads (its fixed context T). */
    int contextLength();

    int vocabSize();

    /** For each window (1..T ids), {@code log p(next | window)} over the vocabulary: {@code [B][V]}. */
    double[][] nextLogProbs(List<int[]> windows);
}
