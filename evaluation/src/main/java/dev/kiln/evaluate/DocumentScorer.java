package dev.kiln.evaluate;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Function;

/**
 * Scores documents with several models at once, on the same windows, and adds up their {@link LmStats}.
 * Windows are batched per document, {@code batchSize} at a time ({@link #batches}): a batch never mixes documents,
 * so what a model is given for a document (and so its float arithmetic) does not depend on which other documents
 * are scored with it. A document's NLL is the sum of its batches' NLLs ({@link #batchNll}), in batch order; documents
 * are added in the order given ({@link ScoreSums}). The distributed evaluation scores the same batches in other tasks
 * with the same two functions and adds them in the same order, so it gives the same numbers.
 */
public final class DocumentScorer {
    private final int contextLength;
    private final int endOfText;
    private final int batchSize;
    private final Function<int[], byte[]> decoder;
    private final List<? extends TokenScorer> scorers;
    private final double[][] logProbs;
    private final ScoreSums sums;

    /** What a document counts for whatever the scorer: predicted tokens, UTF-8 bytes and words of its text. */
    public record Counts(long tokens, long bytes, long words) implements Serializable {
        /** {@code decoder}: token ids to the UTF-8 bytes of their text. */
        public static Counts of(int[] document, Function<int[], byte[]> decoder) {
            byte[] utf8 = decoder.apply(document);
            return new Counts(document.length, utf8.length, TextCounts.words(new String(utf8, StandardCharsets.UTF_8)));
        }
    }

    /** {@code decoder}: token ids to the UTF-8 bytes of their text. */
    public DocumentScorer(int contextLength, int endOfText, int batchSize, Function<int[], byte[]> decoder,
                          List<? extends TokenScorer> scorers) {
        this.contextLength = contextLength;
        this.endOfText = endOfText;
        this.batchSize = batchSize;
        this.decoder = decoder;
        this.scorers = List.copyOf(scorers);
        this.logProbs = logProbs(batchSize, contextLength);
        this.sums = new ScoreSums(scorers.size());
    }

    /** The scratch buffer {@link #batchNll} needs: {@code [batchSize][T]}. */
    public static double[][] logProbs(int batchSize, int contextLength) {
        return new double[batchSize][contextLength];
    }

    /**
     * The forward-pass batches of a document: its {@link RollingWindows} {@code [k * batchSize, (k + 1) * batchSize)}
     * for k = 0, 1, ...; none for an empty document.
     */
    public static List<List<RollingWindows.Window>> batches(int[] document, int contextLength, int endOfText, int batchSize) {
        List<RollingWindows.Window> windows = RollingWindows.of(document, contextLength, endOfText);
        List<List<RollingWindows.Window>> out = new ArrayList<>((windows.size() + batchSize - 1) / batchSize);
        for (int start = 0; start < windows.size(); start += batchSize) {
            out.add(windows.subList(start, Math.min(windows.size(), start + batchSize)));
        }
        return out;
    }

    /**
     * One forward pass: {@code scorer} scores the batch (at most {@code batchSize} windows of one document) and this
     * returns the sum of -ln p over the windows' scored positions, in window and position order. {@code logProbs}:
     * {@link #logProbs(int, int)}.
     */
    public static double batchNll(TokenScorer scorer, List<RollingWindows.Window> batch, double[][] logProbs) {
        scorer.score(batch, logProbs);
        double nll = 0;
        for (int i = 0; i < batch.size(); i++) {
            RollingWindows.Window w = batch.get(i);
            for (int j = w.from(); j < w.to(); j++) {
                nll -= logProbs[i][j];
            }
        }
        return nll;
    }

    /** Scores one document (its tokens, without end-of-text); an empty document is skipped. */
    public void add(int[] document) {
        add(document, null);
    }

    /** Scores one document and adds it to the totals and, unless {@code group} is null, to that group. */
    public void add(int[] document, String group) {
        if (document.length == 0) {
            return;
        }
        List<List<RollingWindows.Window>> batches = batches(document, contextLength, endOfText, batchSize);
        double[] documentNll = new double[scorers.size()];
        for (int s = 0; s < scorers.size(); s++) {
            for (List<RollingWindows.Window> batch : batches) {
                documentNll[s] += batchNll(scorers.get(s), batch, logProbs);
            }
        }
        sums.add(documentNll, Counts.of(document, decoder), group);
    }

    /** Per group (in the order first seen), one {@link LmStats} per scorer. */
    public LinkedHashMap<String, List<LmStats>> groupStats() {
        return sums.groupStats();
    }

    public long tokens() {
        return sums.tokens();
    }

    /** UTF-8 bytes of the text scored so far. */
    public long bytes() {
        return sums.bytes();
    }

    /** The statistics so far, one per scorer in the order given. */
    public List<LmStats> stats() {
        return sums.stats();
    }
}
