package dev.kiln.evaluate;

import java.io.Serializable;

/**
 * Sufficient statistics of language-model scoring over a set of documents; they add, so executors return them per
 * partition and the driver sums them. Every metric is a ratio of sums over documents (lm-evaluation-harness's
 * definition), never a mean of per-document values.
 *
 * @param nll       sum of -ln p(token | context) over the predicted tokens, in nats
 * @param tokens    predicted tokens
 * @param bytes     UTF-8 bytes of the text those tokens decode to
 * @param words     whitespace-separated words of that text, counted as {@code len(re.split(r"\s+", text))} per document
 * @param documents documents scored
 */
public record LmStats(double nll, long tokens, long bytes, long words, long documents) implements Serializable {
    public static final LmStats ZERO = new LmStats(0, 0, 0, 0, 0);

    public LmStats plus(LmStats o) {
        return new LmStats(nll + o.nll, tokens + o.tokens, bytes + o.bytes, words + o.words, documents + o.documents);
    }

    /** Mean loss in nats per predicted token. */
    public double loss() {
        return nll / tokens;
    }

    /** exp(loss): perplexity per token (depends on the tokenizer). */
    public double tokenPerplexity() {
        return Math.exp(loss());
    }

    /** lm-eval's word_perplexity: exp(-sum ll / sum words). */
    public double wordPerplexity() {
        return Math.exp(nll / words);
    }

    /** lm-eval's byte_perplexity: exp(-sum ll / sum bytes). */
    public double bytePerplexity() {
        return Math.exp(nll / bytes);
    }

    /** lm-eval's bits_per_byte: -sum ll / (sum bytes * ln 2). Comparable across tokenizers. */
    public double bitsPerByte() {
        return nll / (bytes * Math.log(2));
    }
}
