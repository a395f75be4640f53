package dev.kiln.tokenize.bpe;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-written scanners split exactly as the published regular expressions do. */
class PreTokenizerTest {

    static List<String> byRegex(PreTokenizer p, String text) {
        // UNICODE_CHARACTER_CLASS: \s is Unicode White_Space and (?i) folds Unicode, as in Oniguruma.
        Matcher m = Pattern.compile(p.regex(), Pattern.UNICODE_CHARACTER_CLASS).matcher(text);
        List<String> out = new ArrayList<>();
        int last = 0;
        while (m.find()) {
            if (m.start() != last) {
                out.add("UNMATCHED:" + text.substring(last, m.start()));
            }
            out.add(m.group());
            last = m.end();
        }
        if (last != text.length()) {
            out.add("UNMATCHED:" + text.substring(last));
        }
        return out;
    }

    static List<String> byScanner(PreTokenizer p, String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = p.end(text, i, text.length());
            out.add(text.substring(i, end));
            i = end;
        }
        return out;
    }

    @Test
    void knownSplits() {
        assertEquals(List.of("Hello", ",", " world", "'s", " ", " 1234", "!!", "\n\n  ", " x"),
                byScanner(PreTokenizer.GPT2, "Hello, world's  1234!!\n\n   x"));
        assertEquals(List.of("Hello", ",", " world", "'S", " ", "123", "4", "!!\n\n", "  ", " x"),
                byScanner(PreTokenizer.GPT4, "Hello, world'S 1234!!\n\n   x"));
        assertEquals(List.of("The", " year", " ", "179", "0", ".\n", "Fellow", "-Citizens"),
                byScanner(PreTokenizer.GPT4, "The year 1790.\nFellow-Citizens"));
    }

    @Test
    void scannersAgreeWithTheRegexOnSotuAndRandomUnicode() {
        for (PreTokenizer p : PreTokenizer.values()) {
            for (String speech : TestTexts.sotu().subList(0, 12)) {
                assertEquals(byRegex(p, speech), byScanner(p, speech), p + " on a SOTU speech");
            }
            Random r = new Random(11);
            for (int i = 0; i < 3000; i++) {
                String s = TestTexts.randomUnicode(r, 30);
                assertEquals(byRegex(p, s), byScanner(p, s), p + " on " + escape(s));
            }
        }
    }

    @Test
    void theCounterCountsEveryPreTokenOccurrence() {
        for (PreTokenizer p : PreTokenizer.values()) {
            Map<String, Long> expected = new HashMap<>();
            PreTokenCounts counter = new PreTokenCounts(p);
            Random r = new Random(3);
            List<String> texts = new ArrayList<>(TestTexts.sotu().subList(20, 40));
            for (int i = 0; i < 500; i++) {
                texts.add(TestTexts.randomUnicode(r, 20));
            }
            for (String t : texts) {
                for (String piece : byScanner(p, t)) {
                    expected.merge(piece, 1L, Long::sum);
                }
                counter.add(t);
            }
            assertEquals(expected, counter.toMap());
            assertEquals(expected.size(), counter.distinct());
        }
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> sb.append(cp >= 32 && cp < 127 ? String.valueOf((char) cp) : String.format("\\u{%X}", cp)));
        return sb.toString();
    }
}
