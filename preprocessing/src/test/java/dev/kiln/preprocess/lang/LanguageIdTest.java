package dev.kiln.preprocess.lang;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.DocumentProcessor;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.Processed;
import dev.kiln.preprocess.read.FileReaders;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputFormat;
import dev.kiln.preprocess.read.InputListing;
import dev.kiln.preprocess.read.ReadRecord;
import dev.kiln.testing.ChineseDuplicates;
import dev.kiln.testing.PreprocessRuns;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Language identification on a labelled sample built from the real corpora: English SOTU paragraphs, English mail
 * (SpamAssassin ham after Kiln's mail reading and cleaning), and Chinese from chinese-poetry (single Tang poems in
 * traditional characters, Song ci, passages of the Analects in simplified characters: short, classical text, the
 * hard case). Accuracy is
 * asserted with a margin below what was measured (printed, and in the README).
 */
class LanguageIdTest {
    /** label -> texts. */
    static Map<String, List<String>> sample() throws Exception {
        Map<String, List<String>> s = new LinkedHashMap<>();
        List<String> sotu = new ArrayList<>();
        try (Stream<Path> files = Files.list(SampleCorpora.sotu())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                List<String> paragraphs = Files.readAllLines(f, StandardCharsets.UTF_8).stream().filter(l -> l.length() >= 200).toList();
                if (!paragraphs.isEmpty()) {
                    sotu.add(paragraphs.get(paragraphs.size() / 2));
                }
            }
        }
        s.put("en sotu paragraphs", sotu);
        s.put("en mail (ham)", hamMail(300));
        Path poetry = SampleCorpora.chinesePoetry();
        s.put("zh tang poems (traditional)", ChineseDuplicates.poems(poetry.resolve("quantangshi"), "poet.tang.", 300));
        s.put("zh song ci", ChineseDuplicates.poems(poetry.resolve("songci"), "ci.song.", 300));
        s.put("zh analects (passages)", passages(poetry.resolve("lunyu/lunyu.json")));
        return s;
    }

    /** Every passage of the Analects (20 chapters of short sayings, simplified characters) of at least 20 characters. */
    private static List<String> passages(Path lunyu) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode chapter : new ObjectMapper().readTree(lunyu.toFile())) {
            chapter.path("paragraphs").forEach(p -> {
                if (p.asText().length() >= 20) {
                    out.add(p.asText());
                }
            });
        }
        return out;
    }

    private static List<String> hamMail(int limit) throws Exception {
        PreprocessConfig cfg = PreprocessRuns.config("input.paths", "[\"" + SampleCorpora.spamAssassin().resolve("easy-ham-1") + "\"]",
                "input.format", "mail", "filter.enabled", "false", "output.path", "/unused");
        DocumentProcessor cleaning = new DocumentProcessor(cfg.clean(), cfg.filter());
        Configuration conf = new Configuration();
        List<String> out = new ArrayList<>();
        for (InputFile f : InputListing.list(cfg.input().paths(), InputFormat.MAIL, conf)) {
            Iterator<ReadRecord> it = FileReaders.read(f, cfg.input(), conf);
            while (it.hasNext()) {
                if (cleaning.process(it.next()) instanceof Processed.Kept k && k.document().text().length() >= 200) {
                    out.add(k.document().text());
                }
            }
            if (out.size() >= limit) {
                break;
            }
        }
        return out;
    }

    @Test
    void identifiesEnglishAndChineseOnTheLabelledSample() throws Exception {
        Map<String, List<String>> sample = sample();
        long right = 0;
        long total = 0;
        long chars = 0;
        long nanos = 0;
        for (Map.Entry<String, List<String>> e : sample.entrySet()) {
            String label = e.getKey().substring(0, 2);
            Map<String, Integer> guesses = new TreeMap<>();
            int ok = 0;
            for (String text : e.getValue()) {
                long t = System.nanoTime();
                LanguageId.Guess g = LanguageId.identify(text, 500);
                nanos += System.nanoTime() - t;
                chars += Math.min(500, text.length());
                guesses.merge(g.language(), 1, Integer::sum);
                ok += g.language().equals(label) ? 1 : 0;
            }
            double accuracy = (double) ok / e.getValue().size();
            System.out.printf(Locale.ROOT, "language id: %-28s %4d texts, accuracy %.4f, guesses %s%n", e.getKey(), e.getValue().size(), accuracy, guesses);
            assertTrue(e.getValue().size() >= 100, e.getKey() + ": the sample needs at least 100 texts");
            assertTrue(accuracy >= 0.9, e.getKey() + ": accuracy " + accuracy);
            right += ok;
            total += e.getValue().size();
        }
        double accuracy = (double) right / total;
        System.out.printf(Locale.ROOT, "language id: all %d texts, accuracy %.4f; %.1f ms per 1000 characters read (incl. model load)%n",
                total, accuracy, nanos / 1e6 / (chars / 1000.0));
        assertTrue(accuracy >= 0.97, "overall accuracy " + accuracy);
    }

    @Test
    void codesAreIso6391WhereOneExists() {
        assertEquals("en", LanguageId.code("eng"));
        assertEquals("zh", LanguageId.code("cmn"));
        assertEquals("ja", LanguageId.code("jpn"));
        assertEquals("de", LanguageId.code("deu"));
        assertEquals("fa", LanguageId.code("pes"));
        assertEquals("xyz", LanguageId.code("xyz"));
    }
}
