package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A Chinese corpus with known duplicates, built from the real chinese-poetry package: the poems of a collection's
 * files (in file and array order) are joined, a few at a time, into documents of about {@code charsPerDoc}
 * characters (a poem per line); then a fraction of the documents get 1-3 copies each: exact, with whitespace and
 * punctuation changes (full-width to ASCII or spaces, line breaks moved, terminal marks dropped), or with 1-5%
 * character edits (substitutions, deletions and insertions of characters from the corpus). The truth is the original
 * each document came from ({@link InjectedDuplicates.Doc}, scored by {@link InjectedDuplicates#score}).
 */
public final class ChineseDuplicates {
    public static final double[] EDIT_RATES = {0.01, 0.02, 0.03, 0.05};

    private ChineseDuplicates() {
    }

    /** The poems of {@code collection} (e.g. quantangshi/ of chinese-poetry's dist folder): one line of text each. */
    public static List<String> poems(Path collection, String filePrefix, int limit) {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        try (Stream<Path> s = Files.list(collection)) {
            for (Path f : s.filter(p -> p.getFileName().toString().startsWith(filePrefix) && p.toString().endsWith(".json"))
                    .sorted().toList()) {
                for (JsonNode poem : json.readTree(f.toFile())) {
                    StringBuilder sb = new StringBuilder();
                    poem.path("paragraphs").forEach(p -> sb.append(p.asText()));
                    String text = sb.toString().strip();
                    // Collections repeat poems; an original must be one poem once.
                    if (text.length() >= 20 && seen.add(text)) {
                        out.add(text);
                        if (out.size() >= limit) {
                            return out;
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Documents of about {@code charsPerDoc} characters from {@code poems}, with {@code dupFraction} of them duplicated. */
    public static List<InjectedDuplicates.Doc> generate(List<String> poems, int charsPerDoc, double dupFraction, long seed) {
        List<String> originals = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String p : poems) {
            cur.append(p).append('\n');
            if (cur.length() >= charsPerDoc) {
                originals.add(cur.toString().strip());
                cur.setLength(0);
            }
        }
        String alphabet = String.join("", poems.subList(0, Math.min(poems.size(), 200))).replaceAll("[\\p{P}\\s]", "");
        Random rnd = new Random(seed);
        List<InjectedDuplicates.Doc> out = new ArrayList<>();
        for (int i = 0; i < originals.size(); i++) {
            String text = originals.get(i);
            out.add(new InjectedDuplicates.Doc(String.format("zh-%05d-0", i), text, i, "original"));
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
                } else if (kind < 0.3) {
                    copy = respace(text, rnd);
                    label = "space-punct";
                } else {
                    double rate = EDIT_RATES[rnd.nextInt(EDIT_RATES.length)];
                    copy = edit(text, rate, alphabet, rnd);
                    label = "edit-" + Math.round(rate * 100) + "%";
                }
                out.add(new InjectedDuplicates.Doc(String.format("zh-%05d-%d", i, c), copy, i, label));
            }
        }
        return out;
    }

    /** Character edits at {@code rate}: each non-punctuation character substituted, deleted or followed by an insertion. */
    static String edit(String text, double rate, String alphabet, Random rnd) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (Character.isLetter(ch) && rnd.nextDouble() < rate) {
                int op = rnd.nextInt(3);
                char other = alphabet.charAt(rnd.nextInt(alphabet.length()));
                if (op == 0) {
                    sb.append(other);
                } else if (op == 2) {
                    sb.append(ch).append(other);
                }
                continue;
            }
            sb.append(ch);
        }
        return sb.toString();
    }

    /** Full-width punctuation to ASCII or spaces, terminal marks dropped, spaces and line breaks moved. */
    static String respace(String text, Random rnd) {
        String s = rnd.nextBoolean() ? text.replace('，', ',').replace('。', '.') : text.replace("，", " ").replace("。", "\n");
        s = s.replace("？", rnd.nextBoolean() ? "?" : "").replace("！", "");
        return rnd.nextBoolean() ? s.replace("\n", "\n\n  ") : s.replace("\n", " ");
    }
}
