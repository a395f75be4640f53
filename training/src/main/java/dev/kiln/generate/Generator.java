package dev.kiln.generate;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Autoregressive decoding of many sequences at once, through a {@link Decoder} of up to {@code batchSize} rows: a
 * sequence takes a free row (its window is run whole: prefill), then adds one token per step (one new position with a
 * KV cache); when it stops, the next waiting sequence takes its row. Each step applies the logits processors to each
 * sequence's scores and picks its next token (argmax, or one draw from the sequence's own random stream).
 *
 * <p>The window is at most T = the model's context. A prompt longer than T keeps its last T tokens. When a token
 * would make the window longer than T, the window restarts at the last {@code T - slide} tokens ({@link #slide}: T/4),
 * which run again as a new prefill: learned absolute positions tie each cached key to its slot, so a window cannot
 * slide by one without recomputing every position. Cost past the context: one prefill of T - T/4 positions per T/4
 * new tokens (4 positions per token at T = 128 instead of 1, still far below a full forward of T per token); the
 * model then sees between 3T/4 and T tokens of context. A sequence stops at end-of-text (not part of its tokens) or
 * after its budget of new tokens.
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
        int start; // the window is ids[start, length)
        boolean fresh = true; // the window must run whole (new, or slid) before the next token
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

        /** What the decoder has not seen yet: the whole window when fresh, else the last token. */
        int[] feed(int context) {
            if (fresh) {
                start = Math.max(start, length - context);
                return Arrays.copyOfRange(ids, start, length);
            }
            return new int[]{ids[length - 1]};
        }

        void add(int id, int context) {
            ids[length++] = id;
            generated++;
            if (length - start > context) {
                start = length - (context - slide(context));
                fresh = true;
            }
        }
    }

    /**
     * Tokens a full window slides by: it restarts at its last {@code context - slide} tokens (see the class comment).
     * Below a context of 4 it is 0: the window then moves by one token at a time, each time recomputed whole.
     */
    static int slide(int context) {
        return context / 4;
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
        // Sequences take rows in request order; a sequence's tokens depend only on its own window and random stream
        // (the cached attention reads its own row only), so batching never changes the text.
        ArrayDeque<Sequence> waiting = new ArrayDeque<>(all.stream().filter(s -> s.stop == null).toList());
        Sequence[] rows = new Sequence[Math.max(1, Math.min(cfg.batchSize(), waiting.size()))];
        Decoder decoder = model.decoder(rows.length);
        while (true) {
            for (int r = 0; r < rows.length; r++) {
                if (rows[r] == null && !waiting.isEmpty()) {
                    rows[r] = waiting.poll();
                }
            }
            int produced = step(decoder, rows);
            if (produced == 0) {
                break;
            }
            if (onTokens != null) {
                onTokens.accept(produced);
            }
        }
        List<Result> out = new ArrayList<>(all.size());
        for (Sequence s : all) {
            int first = s.length - s.generated;
            out.add(new Result(s.request.promptIndex(), s.request.sequenceIndex(),
                    Arrays.copyOfRange(s.ids, first, s.length), s.stop));
        }
        return out;
    }

    /** One token for every occupied row; frees the rows whose sequence stopped. Returns the tokens produced. */
    private int step(Decoder decoder, Sequence[] rows) {
        int t = model.contextLength();
        int[] live = IntStream.range(0, rows.length).filter(r -> rows[r] != null).toArray();
        if (live.length == 0) {
            return 0;
        }
        int[][] feeds = new int[live.length][];
        boolean[] fresh = new boolean[live.length];
        for (int i = 0; i < live.length; i++) {
            Sequence s = rows[live[i]];
            fresh[i] = s.fresh;
            feeds[i] = s.feed(t);
            s.fresh = false;
        }
        double[][] scores = decoder.extend(live, feeds, fresh);
        for (int i = 0; i < live.length; i++) {
            Sequence s = rows[live[i]];
            // the repetition penalty reads the whole context, prompt included; copy it only for that
            int[] context = cfg.repetitionPenalty() == 1.0 ? NO_CONTEXT : Arrays.copyOf(s.ids, s.length);
            int next = pick(scores[i], context, s.random);
            if (next == endOfText) {
                s.stop = StopReason.END_OF_TEXT;
            } else {
                s.add(next, t);
                if (s.generated == s.budget) {
                    s.stop = StopReason.LENGTH;
                }
            }
            if (s.stop != null) {
                rows[live[i]] = null;
            }
        }
        return live.length;
    }

    /** One decoding step for one sequence: the processors in Hugging Face's order, then argmax or a draw. */
    int pick(double[] scores, int[] context, SplittableRandom random) {
        LogitsProcessors.apply(scores, context, cfg);
        return cfg.doSample() ? Sampler.sample(scores, random.nextDouble()) : Sampler.argmax(scores);
    }
}
