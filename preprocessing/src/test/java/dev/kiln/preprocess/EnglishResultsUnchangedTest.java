package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The English corpora come out of {@code kiln preprocess} exactly as they did before words became per-language
 * (commit 31728bf, the last one before): every kept document's id, text and cluster, and every removed document's
 * id and reason, on all 233 SOTU speeches and all 6,046 SpamAssassin mails, through the real pipeline on local[2]
 * with the default settings. The expected digests in {@code golden/english-results.txt} were written by this same
 * class run on that commit ({@code -Dkiln.golden.write=FILE}).
 *
 * <p>A line per document: {@code K id sha256(text) cluster} or {@code R reason id duplicate_of}; the digest is the
 * SHA-256 of the sorted lines. {@code spaced} leaves out the documents whose letters are 10% or more Chinese,
 * Japanese, Thai, Lao, Khmer or Burmese (the rule {@code Words.segmentationOf} uses, copied here so the old commit
 * computes the same set): those are the documents the change is meant to treat differently. SOTU has none; the
 * SpamAssassin mail has 29 (Chinese and Japanese spam and a few Japanese ham), which the old filters dropped for
 * their whitespace "words" and which are now kept under the Chinese thresholds (or with mean_word_length skipped for
 * Japanese) and deduplicated by dictionary words: {@code spam-assassin.all} differs by design and is printed.
 */
class EnglishResultsUnchangedTest {
    @TempDir
    Path tmp;

    @Test
    void sotuAndSpamAssassinKeepTheirDocumentsTextsReasonsAndClusters() throws Exception {
        Map<String, String> actual = new LinkedHashMap<>();
        actual.putAll(digests("sotu", run("sotu", SampleCorpora.sotu() + "/*.txt", "text")));
        actual.putAll(digests("spam-assassin", run("mail", SampleCorpora.spamAssassin() + "/*/*.txt", "mail")));
        String rendered = render(actual);
        String write = System.getProperty("kiln.golden.write");
        if (write != null && !write.isBlank()) {
            Files.writeString(Path.of(write), rendered);
            return;
        }
        Map<String, String> expected = parse(readGolden());
        System.out.println("English results now:\n" + rendered);
        for (String key : List.of("sotu.spaced", "spam-assassin.spaced", "sotu.all", "sotu.lines")) {
            assertEquals(expected.get(key), actual.get(key), key + "\nexpected:\n" + render(expected) + "\nactual:\n" + rendered);
        }
        // "N (M spaced)": the spaced documents' lines are the same in number too.
        assertEquals(spaced(expected.get("spam-assassin.lines")), spaced(actual.get("spam-assassin.lines")));
        // The documents in unspaced scripts are counted so a change there is seen, and say how they differ.
        System.out.println("all documents identical: sotu " + expected.get("sotu.all").equals(actual.get("sotu.all"))
                + ", spam-assassin " + expected.get("spam-assassin.all").equals(actual.get("spam-assassin.all")));
    }

    private Path run(String name, String glob, String format) throws IOException {
        Path out = tmp.resolve(name);
        PreprocessConfig cfg = PreprocessRuns.config("input.paths", "[\"" + glob + "\"]", "input.format", format,
                "output.path", out.toString(), "dedup.keep", "all", "output.removed-samples-per-reason", "10000");
        PreprocessPipeline.run(LocalSpark.get(), cfg, TestLineage.preprocess(LocalSpark.get()));
        return out;
    }

    /** name.lines / .all / .spaced / .unspaced: line counts and digests of the run's per-document lines. */
    private static Map<String, String> digests(String name, Path out) throws Exception {
        List<String[]> lines = new ArrayList<>(); // [line, text]
        for (Row r : LocalSpark.get().read().parquet(out.resolve("documents").toString()).select("id", "text", "cluster_id").collectAsList()) {
            lines.add(new String[]{"K\t" + r.getString(0) + "\t" + sha(r.getString(1)) + "\t" + r.getString(2), r.getString(1)});
        }
        ObjectMapper json = new ObjectMapper();
        Path samples = out.resolve("runs/run=0001/removed-samples");
        try (Stream<Path> files = Files.list(samples)) {
            for (Path f : files.sorted().toList()) {
                String reason = f.getFileName().toString().replace(".jsonl", "");
                for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    JsonNode s = json.readTree(l);
                    lines.add(new String[]{"R\t" + reason + "\t" + s.path("id").asText() + "\t" + s.path("duplicate_of").asText(""),
                            s.path("text").asText()});
                }
            }
        }
        List<String> all = new ArrayList<>();
        List<String> spaced = new ArrayList<>();
        for (String[] l : lines) {
            all.add(l[0]);
            if (!unspaced(l[1])) {
                spaced.add(l[0]);
            }
        }
        Map<String, String> m = new TreeMap<>();
        m.put(name + ".lines", all.size() + " (" + spaced.size() + " spaced)");
        m.put(name + ".all", digest(all));
        m.put(name + ".spaced", digest(spaced));
        JsonNode stats = json.readTree(out.resolve("stats.json").toFile());
        m.put(name + ".kept", stats.path("stages").path("write").path("documents_out").asText());
        return m;
    }

    /** Words.segmentationOf's rule, kept here verbatim so the commit before it computes the same set. */
    static boolean unspaced(String text) {
        long letters = 0;
        long unspaced = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetter(cp)) {
                letters++;
                Character.UnicodeScript s = Character.UnicodeScript.of(cp);
                if (s == Character.UnicodeScript.HAN || s == Character.UnicodeScript.HIRAGANA || s == Character.UnicodeScript.KATAKANA
                        || s == Character.UnicodeScript.THAI || s == Character.UnicodeScript.LAO || s == Character.UnicodeScript.KHMER
                        || s == Character.UnicodeScript.MYANMAR) {
                    unspaced++;
                }
            }
        }
        return letters > 0 && unspaced >= 0.1 * letters;
    }

    private static String digest(List<String> lines) throws Exception {
        List<String> sorted = new ArrayList<>(lines);
        Collections.sort(sorted);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String l : sorted) {
            md.update(l.getBytes(StandardCharsets.UTF_8));
            md.update((byte) '\n');
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String sha(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)), 0, 16);
    }

    private static String spaced(String lines) {
        return lines.substring(lines.indexOf('('));
    }

    private static String render(Map<String, String> m) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(m).forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        return sb.toString();
    }

    private static Map<String, String> parse(String text) {
        Map<String, String> m = new TreeMap<>();
        for (String l : text.split("\n")) {
            int eq = l.indexOf(" = ");
            if (eq > 0 && !l.startsWith("#")) {
                m.put(l.substring(0, eq), l.substring(eq + 3));
            }
        }
        return m;
    }

    private static String readGolden() throws IOException {
        try (InputStream in = EnglishResultsUnchangedTest.class.getResourceAsStream("/golden/english-results.txt")) {
            assertNotNull(in, "golden/english-results.txt");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
