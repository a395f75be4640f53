package dev.kiln.evaluate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Running sums of scored documents, one NLL per scorer: the totals and, for documents given a group, that group's.
 * Documents are added whole (their NLL already summed over their batches, in batch order), so the sums depend only
 * on the order documents are added in. A document is added to the totals and to its group separately, so the totals
 * do not depend on the grouping (the groups' sums equal them up to float rounding).
 */
public final class ScoreSums {
    private final Sums totals;
    private final Map<String, Sums> groups = new LinkedHashMap<>();

    /** One set of sums: NLL per scorer and the counts, which are the same for every scorer. */
    private static final class Sums {
        final double[] nll;
        long tokens;
        long bytes;
        long words;
        long documents;

        Sums(int scorers) {
            nll = new double[scorers];
        }

        void add(double[] documentNll, DocumentScorer.Counts c) {
            for (int s = 0; s < nll.length; s++) {
                nll[s] += documentNll[s];
            }
            tokens += c.tokens();
            bytes += c.bytes();
            words += c.words();
            documents++;
        }

        List<LmStats> stats() {
            List<LmStats> out = new ArrayList<>(nll.length);
            for (double n : nll) {
                out.add(new LmStats(n, tokens, bytes, words, documents));
            }
            return out;
        }
    }

    public ScoreSums(int scorers) {
        this.totals = new Sums(scorers);
    }

    /** Adds one document: its NLL per scorer and its counts, to the totals and, unless {@code group} is null, to that group. */
    public void add(double[] documentNll, DocumentScorer.Counts counts, String group) {
        if (documentNll.length != totals.nll.length) {
            throw new IllegalArgumentException("expected one NLL per scorer (" + totals.nll.length + "), got " + documentNll.length);
        }
        totals.add(documentNll, counts);
        if (group != null) {
            groups.computeIfAbsent(group, k -> new Sums(totals.nll.length)).add(documentNll, counts);
        }
    }

    /** The totals, one {@link LmStats} per scorer. */
    public List<LmStats> stats() {
        return totals.stats();
    }

    /** Per group (in the order first seen), one {@link LmStats} per scorer. */
    public LinkedHashMap<String, List<LmStats>> groupStats() {
        LinkedHashMap<String, List<LmStats>> out = new LinkedHashMap<>();
        groups.forEach((name, g) -> out.put(name, g.stats()));
        return out;
    }

    public long tokens() {
        return totals.tokens;
    }

    public long bytes() {
        return totals.bytes;
    }
}
