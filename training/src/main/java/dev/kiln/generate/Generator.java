package dev.kiln.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Autoregressive decoding of many sequences at once. Every step runs one forward over the windows of up to
 * {@code batchSize} unfinished sequences, applies the logits processors to each sequence's scores and picks its
 * next token (argmax, or one draw from the sequence's own random stream). The window is the last T tokens of
 * prompt + generated text, so a prompt longer than the context keeps its last tokens and the window slides as
 * tokens are added. A sequence stops at end-of-text (not part of its tokens) or after its budget of new tokens.
 */
public final class Generator {
    /** Why a sequence ended: Hugging Face's (and OpenAI's) finish reasons. */
    public enum StopReason {
        /** the model produced the end-of-text token */
        END_OF_TEXT,
        /** max-new-tokens (or max-length) was reached */
        LENGTH;

        public String json() {
            return this == END_OF_TEXT ? "end_of_text" : "length";
        }
    }

    /** One sequence to generate: {@code promptIds} may be empty (generation then starts from end-of-text). */
    public record Request(long promptIndex, int sequenceIndex, int[] promptIds) {
    }

    /** The new tokens of one sequence (end-of-text excluded) and why it stopped. */
    public record Result(long promptIndex, int sequenceIndex, int[] tokens, StopReason stop) {
    }

    private static final int[] NO_CONTEXT = new int[0];

    private final LanguageModel model;
    private final GenerationConfig cfg;
    private final int endOfText;

    public Generator(LanguageModel model, GenerationConfig cfg, int endOfText) {
        if (endOfText < 0 || endOfText >= model.vocabSize()) {
            throw new IllegalArgumentException("end-of-text id " + endOfText + " is outside the model's vocabulary of "
                    + model.vocabSize());
        }
        this.model = model;
        this.cfg = cfg;
        this.endOfText = endOfText;
    }

    private static final class Sequence {
        final Request request;
        final int budget;
        final SplittableRandom random;
        int[] ids; // prompt (or end-of-text for an empty prompt) then the new tokens
        int length;
        int generated;
        StopReason stop;

        Sequence(Request request, int budget, SplittableRandom random, int endOfText) {
            this.request = request;
            this.budget = budget;
            this.random = random;
            int[] prompt = request.promptIds().length > 0 ? request.promptIds() : new int[]{endOfText};
            ids = Arrays.copyOf(prompt, prompt.length + budget);
            length = prompt.length;
            if (budget == 0) {
                stop = StopReason.LENGTH;
            }
        }

        int[] window(int t) {
            return Arrays.copyOfRange(ids, Math.max(0, length - t), length);
        }

        void add(int id) {
            ids[length++] = id;
            generated++;
        }
    }

    /** Generates every request; {@code onTokens} is told how many tokens each step produced (may be null). */
    public List<Result> generate(List<Request> requests, IntConsumer onTokens) {
        List<Sequence> all = new ArrayList<>(requests.size());
        for (Request r : requests) {
            for (int id : r.promptIds()) {
                if (id < 0 || id >= model.vocabSize()) {
                    throw new IllegalArgumentException("prompt " + r.promptIndex() + " has token id " + id
                            + ", outside the model's vocabulary of " + model.vocabSize());
                }
            }
            all.add(new Sequence(r, cfg.newTokens(r.promptIds().length),
                    Sampler.stream(cfg.seed(), r.promptIndex(), r.sequenceIndex()), endOfText));
        }
        // Batches are cut from the sequences still running, in request order; a sequence's tokens depend only on
        // its own window and random stream, so batching never changes the text.
        List<Sequence> running = new ArrayList<>(all.stream().filter(s -> s.stop == null).toList());
        while (!running.isEmpty()) {
            int produced = 0;
            for (int from = 0; from < running.size(); from += cfg.batchSize()) {
                List<Sequence> batch = running.subList(from, Math.min(running.size(), from + cfg.batchSize()));
                List<int[]> windows = new ArrayList<>(batch.size());
                for (Sequence s : batch) {
                    windows.add(s.window(model.contextLength()));
                }
                double[][] scores = model.nextLogProbs(windows);
                for (int i = 0; i < batch.size(); i++) {
                    Sequence s = batch.get(i);
                    // the repetition penalty reads the whole context, prompt included; copy it only for that
                    int[] context = cfg.repetitionPenalty() == 1.0 ? NO_CONTEXT : Arrays.copyOf(s.ids, s.length);
                    int next = pick(scores[i], context, s.random);
                    produced++;
                    if (next == endOfText) {
                        s.stop = StopReason.END_OF_TEXT;
                    } else {
                        s.add(next);
                        if (s.generated == s.budget) {
                            s.stop = StopReason.LENGTH;
                        }
                    }
                }
            }
            running.removeIf(s -> s.stop != null);
            if (onTokens != null) {
                onTokens.accept(produced);
            }
        }
        List<Result> out = new ArrayList<>(all.size());
        for (Sequence s : all) {
            int start = s.length - s.generated;
            out.add(new Result(s.request.promptIndex(), s.request.sequenceIndex(),
                    Arrays.copyOfRange(s.ids, start, s.length), s.stop));
        }
        return out;
    }

    /** One decoding step for one sequence: the processors in Hugging Face's order, then argmax or a draw. */
    int pick(double[] scores, int[] context, SplittableRandom random) {
        LogitsProcessors.apply(scores, context, cfg);
        return cfg.doSample() ? Sampler.sample(scores, random.nextDouble()) : Sampler.argmax(scores);
    }
}
