package dev.kiln.preprocess.read;

import dev.kiln.preprocess.doc.Document;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.ReadAll;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input is quarantined with a reason, and the good records around it still come through. */
class FileReadersTest {
    @TempDir
    Path dir;

    private List<ReadRecord> read(InputFormat format, String glob) throws IOException {
        Configuration conf = new Configuration();
        InputConfig in = PreprocessRuns.input(dir.resolve(glob).toString(), "format", format.name().toLowerCase(Locale.ROOT));
        return ReadAll.records(InputListing.list(in.paths(), format, conf), in, conf);
    }

    private static Document doc(ReadRecord r) {
        return ((ReadRecord.Read) r).document();
    }

    private static ReadRecord.Quarantined bad(ReadRecord r) {
        return (ReadRecord.Quarantined) r;
    }

    @Test
    void jsonLinesKeepGoodRecordsAndQuarantineBadOnes() throws IOException {
        byte[] invalidUtf8 = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'};
        try (OutputStream o = Files.newOutputStream(dir.resolve("a.jsonl"))) {
            o.write("{\"text\": \"first good\", \"year\": 1790, \"name\": \"George\"}\n".getBytes(StandardCharsets.UTF_8));
            o.write("{\"body\": \"no text field\"}\n".getBytes(StandardCharsets.UTF_8));
            o.write(invalidUtf8);
            o.write("not json at all\n".getBytes(StandardCharsets.UTF_8));
            o.write("\n".getBytes(StandardCharsets.UTF_8));
            // A 50 MB line: skipped by length, never held in memory whole.
            o.write("{\"text\": \"".getBytes(StandardCharsets.UTF_8));
            byte[] chunk = new byte[1 << 20];
            Arrays.fill(chunk, (byte) 'x');
            for (int i = 0; i < 50; i++) {
                o.write(chunk);
            }
            o.write("\"}\n".getBytes(StandardCharsets.UTF_8));
            o.write("{\"text\": \"last good\"}".getBytes(StandardCharsets.UTF_8)); // no final newline
        }
        List<ReadRecord> r = read(InputFormat.AUTO, "*.jsonl");
        List<String> texts = r.stream().filter(x -> x instanceof ReadRecord.Read).map(x -> doc(x).text()).toList();
        assertEquals(List.of("first good", "last good"), texts);
        assertEquals("1790", doc(r.get(0)).metadata().get("year"));
        assertEquals("George", doc(r.get(0)).metadata().get("name"));
        List<String> reasons = r.stream().filter(x -> x instanceof ReadRecord.Quarantined).map(x -> bad(x).reason()).toList();
        assertEquals(4, reasons.size(), reasons.toString());
        assertTrue(reasons.get(0).startsWith("line 2: no string field \"text\""), reasons.get(0));
        assertTrue(reasons.get(1).startsWith("line 3: invalid UTF-8 at byte 9"), reasons.get(1));
        assertTrue(reasons.get(2).startsWith("line 4: invalid JSON"), reasons.get(2));
        assertTrue(reasons.get(3).startsWith("line 6: 52428812 bytes exceeds max-record-bytes"), reasons.get(3));
    }

    /** max-record-bytes decides how long a JSON text may be, not Jackson's default limit of 20 M chars per string. */
    @Test
    void aJsonTextLongerThanJacksonsDefaultLimitIsReadUnderMaxRecordBytes() throws IOException {
        int chars = 21_000_000;
        try (OutputStream o = Files.newOutputStream(dir.resolve("long.jsonl"))) {
            o.write("{\"text\": \"".getBytes(StandardCharsets.UTF_8));
            byte[] chunk = new byte[1_000_000];
            Arrays.fill(chunk, (byte) 'x');
            for (int i = 0; i < chars / chunk.length; i++) {
                o.write(chunk);
            }
            o.write("\"}\n".getBytes(StandardCharsets.UTF_8));
        }
        Configuration conf = new Configuration();
        InputConfig in = PreprocessRuns.input(dir.resolve("long.jsonl").toString(), "max-record-bytes", "32m");
        List<ReadRecord> r = ReadAll.records(InputListing.list(in.paths(), InputFormat.AUTO, conf), in, conf);
        assertEquals(1, r.size());
        assertTrue(r.get(0) instanceof ReadRecord.Read, r.get(0).toString());
        assertEquals(chars, doc(r.get(0)).text().length());
    }

    @Test
    void corruptGzipKeepsTheLinesBeforeTheDamage() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            for (int i = 0; i < 2000; i++) {
                gz.write(("{\"text\": \"record number " + i + " with some words to make it compress less " + (i * 7919) + "\"}\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        byte[] gz = bytes.toByteArray();
        byte[] truncated = Arrays.copyOf(gz, gz.length / 2);
        Files.write(dir.resolve("cut.jsonl.gz"), truncated);
        byte[] garbage = "this is not gzip at all".getBytes(StandardCharsets.UTF_8);
        Files.write(dir.resolve("garbage.jsonl.gz"), garbage);
        List<ReadRecord> r = read(InputFormat.AUTO, "*.gz");
        long good = r.stream().filter(x -> x instanceof ReadRecord.Read).count();
        List<ReadRecord.Quarantined> bad = r.stream().filter(x -> x instanceof ReadRecord.Quarantined).map(FileReadersTest::bad).toList();
        assertTrue(good > 100 && good < 2000, "kept the records before the truncation: " + good);
        assertEquals(2, bad.size(), bad.toString());
        assertTrue(bad.get(0).path().endsWith("cut.jsonl.gz") && bad.get(0).reason().contains("records kept"), bad.get(0).reason());
        assertTrue(bad.get(1).path().endsWith("garbage.jsonl.gz") && bad.get(1).reason().contains("ZipException"), bad.get(1).reason());
    }

    @Test
    void textFilesEmptyFilesAndInvalidUtf8() throws IOException {
        Files.writeString(dir.resolve("good.txt"), "A plain document.\nSecond line.");
        Files.write(dir.resolve("empty.txt"), new byte[0]);
        Files.write(dir.resolve("latin1.txt"), "caf\u00E9".getBytes(StandardCharsets.ISO_8859_1));
        Files.writeString(dir.resolve("_SUCCESS"), "marker files are skipped");
        List<ReadRecord> r = read(InputFormat.TEXT, "*");
        assertEquals(3, r.size(), r.toString());
        assertEquals("empty file", bad(r.get(0)).reason());
        assertEquals("A plain document.\nSecond line.", doc(r.get(1)).text());
        assertEquals("invalid UTF-8 at byte 3", bad(r.get(2)).reason());
        List<ReadRecord> lines = read(InputFormat.LINES, "good.txt");
        assertEquals(2, lines.size());
        assertTrue(!doc(lines.get(0)).id().equals(doc(lines.get(1)).id()), "ids differ per line");
    }

    @Test
    void idsAreStableContentAndSourceHashes() throws IOException {
        Files.writeString(dir.resolve("a.txt"), "same text");
        Files.writeString(dir.resolve("b.txt"), "same text");
        List<ReadRecord> first = read(InputFormat.TEXT, "*.txt");
        List<ReadRecord> again = read(InputFormat.TEXT, "*.txt");
        assertEquals(doc(first.get(0)).id(), doc(again.get(0)).id());
        assertEquals(32, doc(first.get(0)).id().length());
        assertTrue(!doc(first.get(0)).id().equals(doc(first.get(1)).id()), "same text, other file: other id");
    }

    @Test
    void aPatternThatMatchesNothingIsAnError() {
        IOException e = Assertions.assertThrows(IOException.class,
                () -> InputListing.list(List.of(dir.resolve("nope*.txt").toString()), InputFormat.TEXT, new Configuration()));
        assertTrue(e.getMessage().contains("matches no files"));
    }
}
