package dev.kiln.generate;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The typed, validated {@code kiln.generate} section (every key is documented in the training module's
 * reference.conf). The decoding parameters and their defaults are Hugging Face's {@code GenerationConfig}'s, and
 * so are the combinations refused: temperature {@code <= 0} with sampling, several return sequences with greedy
 * decoding, top-p outside {@code (0, 1]}.
 *
 * @param checkpoint         a {@code step-NNNNNNNN} folder, a {@code checkpoints/} folder or a pretrain output folder
 *                           (default: {@code kiln.train.output})
 * @param tokenizer          a tokenizer.json, or null: the one the checkpoint's training shards were made with
 * @param prompts            a file of prompts (one per line, or JSONL with a "prompt" field), or null
 * @param output             the JSONL file written
 * @param maxNewTokens       new tokens per sequence, or null: {@code maxLength} minus the prompt's tokens
 */
public record GenerationConfig(String checkpoint, String tokenizer, String prompts, String output, String endOfText,
                               int maxLength, Integer maxNewTokens, int numReturnSequences, boolean doSample,
                               double temperature, int topK, double topP, double repetitionPenalty, long seed,
                               int batchSize, int partitions) implements Serializable {

    public static final String SECTION = "kiln.generate";

    public static GenerationConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        int maxLength = s.positiveInt("max-length");
        Integer maxNew = s.has("max-new-tokens") ? s.positiveInt("max-new-tokens") : null;
        int sequences = s.positiveInt("num-return-sequences");
        boolean sample = s.bool("do-sample");
        double temperature = s.doubleIn("temperature", -Double.MAX_VALUE, Double.MAX_VALUE);
        s.require(!sample || temperature > 0, "temperature",
                "must be > 0 when do-sample = true, got " + temperature + " (for greedy decoding set do-sample = false)");
        s.require(sample || sequences == 1, "num-return-sequences",
                "greedy decoding (do-sample = false) gives one sequence per prompt, got " + sequences
                        + "; set do-sample = true for several");
        double topP = s.doubleIn("top-p", -Double.MAX_VALUE, Double.MAX_VALUE);
        s.require(topP > 0 && topP <= 1, "top-p", "must be in (0, 1], got " + topP);
        int topK = s.intIn("top-k", 0, Integer.MAX_VALUE);
        double penalty = s.doubleIn("repetition-penalty", -Double.MAX_VALUE, Double.MAX_VALUE);
        s.require(penalty > 0, "repetition-penalty", "must be > 0 (1 = no penalty), got " + penalty);
        String checkpoint = s.optionalString("checkpoint");
        if (checkpoint == null) {
            checkpoint = new Settings(config, "kiln.train").nonEmpty("output");
        }
        return new GenerationConfig(checkpoint, s.optionalString("tokenizer"),
                s.optionalString("prompts"), s.nonEmpty("output"), s.nonEmpty("end-of-text"), maxLength, maxNew,
                sequences, sample, temperature, topK, topP, penalty, s.longIn("seed", Long.MIN_VALUE, Long.MAX_VALUE),
                s.positiveInt("batch-size"), s.nonNegativeInt("partitions"));
    }

    /**
     * The sampling keys set away from their defaults although {@code do-sample = false} (greedy decoding ignores them;
     * Hugging Face warns about the same), for a warning.
     */
    public List<String> ignoredByGreedy() {
        List<String> out = new ArrayList<>();
        if (!doSample) {
            if (temperature != 1.0) {
                out.add("temperature");
            }
            if (topK != 50) {
                out.add("top-k");
            }
            if (topP != 1.0) {
                out.add("top-p");
            }
        }
        return out;
    }

    /** New tokens to generate after a prompt of {@code promptTokens} tokens (0 when max-length is already reached). */
    public int newTokens(int promptTokens) {
        return maxNewTokens != null ? maxNewTokens : Math.max(0, maxLength - promptTokens);
    }

    /** The same settings with other prompts and output (the job's {@code --prompt} and tests). */
    public GenerationConfig withPrompts(String prompts, String output) {
        return new GenerationConfig(checkpoint, tokenizer, prompts, output, endOfText, maxLength, maxNewTokens,
                numReturnSequences, doSample, temperature, topK, topP, repetitionPenalty, seed, batchSize, partitions);
    }
}
