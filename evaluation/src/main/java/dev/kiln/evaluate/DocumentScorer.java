package dev.kiln.evaluate;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Scores documents with several models at once, on the same windows, and adds up their {@link LmStats}.
 * Windows are batched per document, {@code batchSize} at a time: a batch never mixes documents, so what a model
 * is given for a document (and so its float arithmetic) does not depend on which other documents share a Spark
 * partition, and the sums are the same for any partitioning. Per-document sums are added in document order, to the
 * totals and, for {@link #add(int[], String)}, to the document's group as well (so the totals do not depend on the
 * grouping; the groups' sums equal them up to float rounding).
 */
public final class DocumentScorer {
    private final int contextLength;
    private final int endOfText;
    private final int batchSize;
    private final Function<int[], byte[]> decoder;
    private final List<? extends TokenScorer> scorers;
    private final double[] nll;
    private final double[][] logProbs;
    private long tokens;
    private long bytes;
    private long words;
    private long documents;
    private final Map<String, Sums> groups = new LinkedHashMap<>();

    /** One group's sums, as the totals are kept. */
    private static final class Sums {
        final double[] nll;
        long tokens;
        long bytes;
        long words;
        long documents;

        Sums(int scorers) {
            nll = new double[scorers];
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
        this.nll = new double[scorers.size()];
        this.logProbs = new double[batchSize][contextLength];
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
        Sums g = group == null ? null : groups.computeIfAbsent(group, k -> new Sums(scorers.size()));
        List<RollingWindows.Window> windows = RollingWindows.of(document, contextLength, endOfText);
        for (int s = 0; s < scorers.size(); s++) {
            double documentNll = 0;
            for (int start = 0; start < windows.size(); start += batchSize) {
                List<RollingWindows.Window> batch = windows.subList(start, Math.min(windows.size(), start + batchSize));
                scorers.get(s).score(batch, logProbs);
                for (int i = 0; i < batch.size(); i++) {
                    RollingWindows.Window w = batch.get(i);
                    for (int j = w.from(); j < w.to(); j++) {
                        documentNll -= logProbs[i][j];
                    }
                }
            }
            nll[s] += documentNll;
            if (g != null) {
                g.nll[s] += documentNll;
            }
        }
        byte[] utf8 = decoder.apply(document);
        long w = TextCounts.words(new String(utf8, StandardCharsets.UTF_8));
        tokens += document.length;
        bytes += utf8.length;
        words += w;
        documents++;
        if (g != null) {
            g.tokens += document.length;
            g.bytes += utf8.length;
            g.words += w;
            g.documents++;
        }
    }

    /** Per group (in the order first seen), one {@link LmStats} per scorer. */
    public LinkedHashMap<String, List<LmStats>> groupStats() {
        LinkedHashMap<String, List<LmStats>> out = new LinkedHashMap<>();
        groups.forEach((name, g) -> {
            List<LmStats> l = new ArrayList<>(g.nll.length);
            for (double n : g.nll) {
                l.add(new LmStats(n, g.tokens, g.bytes, g.words, g.documents));
            }
            out.put(name, l);
        });
        return out;
    }

    public long tokens() {
        return tokens;
    }

    /** UTF-8 bytes of the text scored so far. */
    public long bytes() {
        return bytes;
    }

    /** The statistics so far, one per scorer in the order given. */
    public List<LmStats> stats() {
        List<LmStats> out = new ArrayList<>(scorers.size());
        for (double n : nll) {
            out.add(new LmStats(n, tokens, bytes, words, documents));
        }
        return out;
    }
}
