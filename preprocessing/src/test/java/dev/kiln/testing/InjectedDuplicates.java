package dev.kiln.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A corpus with known duplicates, built from the real SOTU speeches: each speech is cut into documents of about
 * {@code wordsPerDoc} words (whole paragraphs), then a fraction of them get 1-3 copies each: exact copies, copies that
 * differ only in case and spacing, and near copies with a known word edit rate (substitutions, deletions and
 * insertions of corpus words). The truth is the original each document came from.
 */
public final class InjectedDuplicates {
    /** One generated document; {@code original} is the index of the document it was made from (its truth cluster). */
    public record Doc(String id, String text, int original, String kind) {
    }

    public static final double[] EDIT_RATES = {0.01, 0.02, 0.03, 0.05};

    private InjectedDuplicates() {
    }

    /** Originals from SOTU (limit 0 = all), with {@code dupFraction} of them duplicated; deterministic for a seed. */
    public static List<Doc> generate(Path sotuDir, int wordsPerDoc, int limit, double dupFraction, long seed) {
        List<String> originals = originals(sotuDir, wordsPerDoc, limit);
        List<String> vocabulary = new ArrayList<>();
        for (int i = 0; i < originals.size(); i += 7) {
            for (String w : originals.get(i).split("\\s+")) {
                vocabulary.add(w);
            }
        }
        Random rnd = new Random(seed);
        List<Doc> out = new ArrayList<>();
        for (int i = 0; i < originals.size(); i++) {
            String text = originals.get(i);
            out.add(new Doc(String.format("doc-%05d-0", i), text, i, "original"));
            if (rnd.nextDouble() >= dupFraction) {
                continue;
            }
            int copies = 1 + rnd.nextInt(3);
            for (int c = 1; c <= copies; c++) {
                double kind = rnd.nextDouble();
                String copy;
                String label;
                if (kind < 0.15) {
                    copy = text;
                    label = "exact";
                } else if (kind < 0.25) {
                    copy = recase(text, rnd);
                    label = "case-space";
                } else {
                    double rate = EDIT_RATES[rnd.nextInt(EDIT_RATES.length)];
                    copy = edit(text, rate, vocabulary, rnd);
                    label = "edit-" + Math.round(rate * 100) + "%";
                }
                out.add(new Doc(String.format("doc-%05d-%d", i, c), copy, i, label));
            }
        }
        return out;
    }

    /**
     * SOTU speeches (sorted by file name) cut into documents of about {@code wordsPerDoc} words at sentence ends (most
     * speeches are a single line), with a line break every four sentences.
     */
    public static List<String> originals(Path sotuDir, int wordsPerDoc, int limit) {
        List<String> docs = new ArrayList<>();
        try (Stream<Path> s = Files.list(sotuDir)) {
            for (Path p : s.filter(x -> x.toString().endsWith(".txt")).sorted().toList()) {
                StringBuilder cur = new StringBuilder();
                int words = 0;
                int sentences = 0;
                for (String sentence : Files.readString(p, StandardCharsets.UTF_8).split("(?<=[.!?])\\s+")) {
                    if (sentence.isBlank()) {
                        continue;
                    }
                    cur.append(sentence.strip()).append(++sentences % 4 == 0 ? '\n' : ' ');
                    words += sentence.split("\\s+").length;
                    if (words >= wordsPerDoc) {
                        docs.add(cur.toString().strip());
                        cur.setLength(0);
                        words = 0;
                        sentences = 0;
                        if (limit > 0 && docs.size() >= limit) {
                            return docs;
                        }
                    }
                }
                if (words >= wordsPerDoc / 2) {
                    docs.add(cur.toString().strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    /** Word edits at {@code rate}: each word independently substituted, deleted or followed by an inserted word. */
    public static String edit(String text, double rate, List<String> vocabulary, Random rnd) {
        StringBuilder sb = new StringBuilder(text.length() + 64);
        for (String line : text.split("\n")) {
            for (String w : line.split(" ")) {
                if (w.isEmpty()) {
                    continue;
                }
                if (rnd.nextDouble() < rate) {
                    int op = rnd.nextInt(3);
                    if (op == 0) {
                        sb.append(vocabulary.get(rnd.nextInt(vocabulary.size()))).append(' ');
                    } else if (op == 2) {
                        sb.append(w).append(' ').append(vocabulary.get(rnd.nextInt(vocabulary.size()))).append(' ');
                    }
                    continue;
                }
                sb.append(w).append(' ');
            }
            sb.setLength(Math.max(0, sb.length() - 1));
            sb.append('\n');
        }
        return sb.toString().strip();
    }

    private static String recase(String text, Random rnd) {
        String s = rnd.nextBoolean() ? text.toUpperCase() : text.toLowerCase();
        return s.replace(" ", rnd.nextBoolean() ? "  " : " \t").replace("\n", "\n\n");
    }

    /** Pairwise precision and recall of a clustering (id -> cluster) against the truth (same original). */
    public record Score(double precision, double recall, long truePairs, long predictedPairs, long correctPairs) {
        @Override
        public String toString() {
            return String.format("precision %.4f, recall %.4f (%d of %d predicted pairs correct, %d true pairs)",
                    precision, recall, correctPairs, predictedPairs, truePairs);
        }
    }

    public static Score score(List<Doc> docs, Map<String, String> clusterOf) {
        Map<Integer, Long> truth = new HashMap<>();
        Map<String, Long> predicted = new HashMap<>();
        Map<String, Long> both = new HashMap<>();
        for (Doc d : docs) {
            String c = clusterOf.getOrDefault(d.id(), d.id());
            truth.merge(d.original(), 1L, Long::sum);
            predicted.merge(c, 1L, Long::sum);
            both.merge(d.original() + "\u0000" + c, 1L, Long::sum);
        }
        long t = pairs(truth.values());
        long p = pairs(predicted.values());
        long tp = pairs(both.values());
        return new Score(p == 0 ? 1.0 : (double) tp / p, t == 0 ? 1.0 : (double) tp / t, t, p, tp);
    }

    private static long pairs(Iterable<Long> sizes) {
        long n = 0;
        for (long s : sizes) {
            n += s * (s - 1) / 2;
        }
        return n;
    }
}
