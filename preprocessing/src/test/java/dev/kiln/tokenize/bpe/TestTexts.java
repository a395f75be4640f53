package dev.kiln.tokenize.bpe;

import dev.kiln.common.samples.SampleCorpora;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** Texts the tokenizer tests share: the real SOTU speeches and seeded random Unicode. */
final class TestTexts {
    private static List<String> sotu;

    private TestTexts() {
    }

    /** All 233 speeches, sorted by file name. */
    static synchronized List<String> sotu() {
        if (sotu == null) {
            try (Stream<Path> files = Files.list(SampleCorpora.sotu())) {
                List<String> out = new ArrayList<>();
                for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList()) {
                    out.add(Files.readString(p, StandardCharsets.UTF_8));
                }
                sotu = List.copyOf(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sotu;
    }

    private static final String[] PIECES = {
            " ", "  ", "\n", "\r\n", "\t", "\n\n", " \n ", "'s", "'S", "'ll", "'VE", "'re", "'d", "'m", "'t", "'x", "''",
            "the", "The", "nation", " Congress", "1776", "3.14159", "12345678", "½", "Ⅻ", "٣٤", "--", "...", "!?", "$",
            "(", ")", "\"", "é", "e\u0301", "a\u0308\u0323", "ﬁ", "中文", "日本語のテキスト", "한국어", "😀", "👩‍👩‍👧", "🇫🇷",
            "\u00A0", "\u2003", "\u3000", "\u2028", "\u0085", "\u000B", "\f", "ſ", "'ſ", "Ω", "Ж", "ا", "שלום", "\uFEFF",
            "<|endoftext|>", "<|pad|>", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u200B", "\u200D",
    };

    /** A random string of well-formed UTF-16: pieces above mixed with random code points from every plane. */
    static String randomUnicode(Random r, int maxParts) {
        StringBuilder sb = new StringBuilder();
        int parts = r.nextInt(maxParts + 1);
        for (int i = 0; i < parts; i++) {
            switch (r.nextInt(4)) {
                case 0, 1 -> sb.append(PIECES[r.nextInt(PIECES.length)]);
                case 2 -> sb.append((char) (' ' + r.nextInt(95)));
                default -> {
                    int cp;
                    do {
                        cp = r.nextInt(4) == 0 ? r.nextInt(0x110000) : r.nextInt(0x3000);
                    } while (Character.getType(cp) == Character.SURROGATE || !Character.isValidCodePoint(cp));
                    sb.appendCodePoint(cp);
                }
            }
        }
        return sb.toString();
    }
}
