package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.ThreadMXBean;
import dev.kiln.preprocess.read.InputConfig;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.InputFormat;
import dev.kiln.preprocess.read.ReadRecord;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.ReadAll;
import dev.kiln.testing.TestLineage;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #12 item 5, bad input at scale: a generated corpus of a few thousand good JSON Lines records (plain and gzip,
 * one folder matched by the glob where a file is expected) mixed with every kind of bad input the readers know: a
 * gzip file whose second member is truncated, invalid UTF-8, raw NUL bytes, a 100 MB single line, empty files, JSON
 * whose text is not a string, lines that are not JSON objects. Through the real {@link PreprocessPipeline} on
 * local[2]: every good record is in documents/, every bad one in quarantine/ with its reason, and the counts add up
 * exactly, both in stats.json and against the generator's ground truth. The heap (driver and executors share the JVM
 * in local mode) stays bounded: the 100 MB line is skipped by a scan, never buffered.
 *
 * <p>NUL bytes: a raw NUL (0x00) inside a JSON string is malformed JSON (RFC 8259 forbids unescaped control
 * characters), so the line is quarantined as invalid JSON; an escaped {@code \u0000} is well-formed data and goes
 * through, the cleaning step {@code remove-control-chars} strips it from the text.
 */
class BadInputAtScaleTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MB = 1 << 20;

    @TempDir
    Path tmp;

    /** What the generator wrote: good records by id (with the text the output must hold) and bad ones. */
    private final Map<String, String> good = new LinkedHashMap<>();
    /** Pairs (original id, duplicate id) of exact copies: exactly one of each pair is kept. */
    private final List<String[]> duplicates = new ArrayList<>();
    /** Records the filters must drop (too few words), by id. */
    private final Set<String> tooShort = new HashSet<>();
    /** Bad records: file name and a fragment its quarantine reason must contain. */
    private final List<String[]> bad = new ArrayList<>();
    private final Random random = new Random(12);
    private final List<String> vocabulary = new ArrayList<>();

    @Test
    void everyGoodRecordSurvivesEveryBadOneIsQuarantinedAndTheCountsAddUp() throws Exception {
        long generateStart = System.nanoTime();
        Path in = Files.createDirectories(tmp.resolve("in"));
        Path out = tmp.resolve("out");
        generate(in);
        System.out.printf("[bad-input] generated %d good, %d duplicate, %d too-short, %d bad records in %.1f s%n",
                good.size(), duplicates.size(), tooShort.size(), bad.size(), (System.nanoTime() - generateStart) / 1e9);

        SparkSession spark = LocalSpark.get();
        PreprocessConfig cfg = PreprocessRuns.config("input.paths", "[\"" + in.toUri() + "*\"]", "input.id-field", "id",
                "output.path", out.toString());
        HeapWatch heap = HeapWatch.start();
        long runStart = System.nanoTime();
        PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark));
        double runSeconds = (System.nanoTime() - runStart) / 1e9;
        HeapWatch.Peak peak = heap.stop();
        System.out.printf("[bad-input] pipeline run %.1f s; heap: baseline %d MB after a full GC, peak %d MB after a GC (+%d MB, %d GCs), "
                        + "peak used %d MB (garbage included), %s peak %d MB (+%d MB); -Xmx %d MB%n", runSeconds, peak.baseline() / MB,
                peak.afterGc() / MB, (peak.afterGc() - peak.baseline()) / MB, peak.collections(), peak.used() / MB, peak.oldPool(),
                peak.oldPeak() / MB, (peak.oldPeak() - peak.oldBaseline()) / MB, Runtime.getRuntime().maxMemory() / MB);

        // Documents: every good record, by its source id, with its text as generated; of each exact pair one.
        Map<String, String> docs = new HashMap<>();
        for (Row r : spark.read().parquet(out.resolve("documents").toString()).select("metadata", "text").collectAsList()) {
            String id = r.<String, String>getJavaMap(0).get("source_id");
            assertTrue(docs.put(id, r.getString(1)) == null, "document " + id + " written twice");
        }
        for (Map.Entry<String, String> g : good.entrySet()) {
            assertEquals(g.getValue(), docs.get(g.getKey()), "good record " + g.getKey());
        }
        for (String[] pair : duplicates) {
            assertTrue(docs.containsKey(pair[0]) ^ docs.containsKey(pair[1]), "exactly one of " + Arrays.toString(pair));
        }
        for (String id : tooShort) {
            assertTrue(!docs.containsKey(id), id + " has too few words and is filtered out");
        }
        assertEquals(good.size(), docs.size() - duplicates.size(), "documents: the good records and one of each exact pair");

        // Quarantine: every bad record, once, with its reason.
        List<Row> quarantine = spark.read().json(out.resolve("runs/run=0001/quarantine").toString()).select("path", "reason").collectAsList();
        List<String> reasons = new ArrayList<>();
        for (Row r : quarantine) {
            reasons.add(name(r.getString(0)) + " | " + r.getString(1));
        }
        List<String> unmatched = new ArrayList<>(reasons);
        for (String[] b : bad) {
            Iterator<String> it = unmatched.iterator();
            boolean found = false;
            while (it.hasNext()) {
                String q = it.next();
                if (q.startsWith(b[0] + " | ") && q.contains(b[1])) {
                    it.remove();
                    found = true;
                    break;
                }
            }
            assertTrue(found, "bad record " + Arrays.toString(b) + " quarantined; quarantine: " + reasons);
        }
        assertEquals(List.of(), unmatched, "quarantine entries the generator did not write");
        System.out.println("[bad-input] quarantine reasons:\n  " + String.join("\n  ", reasons));

        // The counts add up: records in = documents out + dropped (by reason) + quarantined, in stats.json and
        // against the ground truth.
        JsonNode stats = JSON.readTree(out.resolve("stats.json").toFile());
        long recordsIn = good.size() + 2L * duplicates.size() + tooShort.size() + bad.size();
        long read = stats.at("/stages/read/documents_out").asLong();
        long quarantined = stats.at("/stages/read/quarantined").asLong();
        long cleanRemoved = removed(stats, "clean");
        long filterRemoved = removed(stats, "filter");
        long exactRemoved = removed(stats, "exact_dedup");
        long nearRemoved = removed(stats, "near_dedup");
        long written = stats.at("/stages/write/documents_out").asLong();
        System.out.printf("[bad-input] in %d = out %d + dropped %d (clean %d, filter %d, exact %d, near %d) + quarantined %d%n",
                recordsIn, written, cleanRemoved + filterRemoved + exactRemoved + nearRemoved, cleanRemoved, filterRemoved,
                exactRemoved, nearRemoved, quarantined);
        assertEquals(bad.size(), quarantined, "quarantined");
        assertEquals(recordsIn, read + quarantined, "records in = read + quarantined");
        assertEquals(0, cleanRemoved, "cleaning drops none");
        assertEquals(tooShort.size(), filterRemoved, "filters drop the too-short records");
        assertEquals(duplicates.size(), exactRemoved, "exact dedup drops one of each pair");
        assertEquals(0, nearRemoved, "no near duplicates");
        assertEquals(docs.size(), written, "documents written");
        assertEquals(recordsIn, written + cleanRemoved + filterRemoved + exactRemoved + nearRemoved + quarantined,
                "in = out + dropped + quarantined");
        assertEquals(stats.at("/stages/read/documents_out").asLong(), stats.at("/stages/clean/documents_in").asLong());

        // Heap: buffering the 100 MB line takes its 100 MB of bytes plus 200 MB of chars in the decoder, all of it in
        // arrays G1 puts straight into the old generation. Raising max-record-bytes to 200m, so that the reader does
        // buffer it, took the old generation's peak to about +440 MB and the peak use to about 1 GB; streaming past it,
        // the whole run (Spark's own state included) stays near +120 MB. 256 MB sits between the two.
        assertTrue(peak.collections() > 0, "some GC ran during the run");
        assertTrue(peak.afterGc() - peak.baseline() < 256 * MB, "live heap growth " + (peak.afterGc() - peak.baseline()) / MB + " MB");
        Assumptions.assumeTrue(peak.oldPeak() >= 0, "no old-generation pool to watch (" + peak.oldPool() + ")");
        assertTrue(peak.oldPeak() - peak.oldBaseline() < 256 * MB, peak.oldPool() + " grew by " + (peak.oldPeak() - peak.oldBaseline()) / MB + " MB");
    }

    /**
     * The 100 MB line on its own, in this thread: with max-record-bytes = 1m, reading the file allocates a few MB (the
     * line buffer grows to max-record-bytes at most, doubling), not the line's 100 MB: the line is scanned, not loaded.
     */
    @Test
    void aHundredMegabyteLineIsScannedNotBuffered() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("huge"));
        Path file = in.resolve("huge.jsonl");
        writeHuge(file, 100 * MB);
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        List<InputFile> files = List.of(new InputFile(file.toUri().toString(), Files.size(file), 0, InputFormat.JSONL));
        InputConfig input = PreprocessRuns.input(file.toString(), "max-record-bytes", "1m");
        Configuration conf = new Configuration();
        Path warm = Files.writeString(in.resolve("warm.jsonl"), "{\"text\": \"warms up the file system classes\"}\n");
        ReadAll.records(List.of(new InputFile(warm.toUri().toString(), Files.size(warm), 0, InputFormat.JSONL)), input, conf);
        long before = threads.getThreadAllocatedBytes(id);
        List<ReadRecord> records = ReadAll.records(files, input, conf);
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        System.out.printf("[bad-input] reading a %d MB line allocated %d MB%n", Files.size(file) / MB, allocated / MB);
        assertEquals(3, records.size(), records.toString());
        assertTrue(records.get(1) instanceof ReadRecord.Quarantined q && q.reason().contains("exceeds max-record-bytes (1048576)"), records.toString());
        assertTrue(allocated < 8 * MB, "allocated " + allocated / MB + " MB to skip a 100 MB line with max-record-bytes = 1m");
    }

    private static long removed(JsonNode stats, String stage) {
        long n = 0;
        for (JsonNode r : stats.at("/stages/" + stage + "/removed")) {
            n += r.get("documents").asLong();
        }
        return n;
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    // ---- the generator ----

    private void generate(Path in) throws IOException {
        for (int i = 0; i < 2000; i++) {
            StringBuilder w = new StringBuilder();
            int len = 4 + random.nextInt(5);
            for (int j = 0; j < len; j++) {
                w.append((char) ('a' + random.nextInt(26)));
            }
            vocabulary.add(w.toString());
        }
        // Good records: 4 plain files of 600, 2 gzip files of 400; 10 exact copies and 5 too-short records among them.
        for (int f = 0; f < 6; f++) {
            boolean gz = f >= 4;
            String name = "good-" + f + (gz ? ".jsonl.gz" : ".jsonl");
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < (gz ? 400 : 600); i++) {
                lines.add(goodLine(name + "-" + i));
            }
            if (f == 0) {
                for (int d = 0; d < 10; d++) {
                    String orig = name + "-" + (d * 7);
                    String copy = name + "-copy-" + d;
                    lines.add(line(copy, good.remove(orig)));
                    duplicates.add(new String[]{orig, copy});
                }
                for (int s = 0; s < 5; s++) {
                    String id = name + "-short-" + s;
                    lines.add(line(id, "far too short " + s));
                    tooShort.add(id);
                }
            }
            byte[] bytes = String.join("\n", lines).concat("\n").getBytes(StandardCharsets.UTF_8);
            Files.write(in.resolve(name), gz ? gzip(bytes) : bytes);
        }

        // Two gzip members, the second truncated mid-member: member 1 whole, member 2 up to the damage.
        {
            String name = "truncated.jsonl.gz";
            List<String> ids = new ArrayList<>();
            ByteArrayOutputStream m1 = new ByteArrayOutputStream();
            ByteArrayOutputStream m2 = new ByteArrayOutputStream();
            for (int i = 0; i < 300; i++) {
                String id = name + "-" + i;
                ids.add(id);
                (i < 100 ? m1 : m2).writeBytes((goodLine(id) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            byte[] member1 = gzip(m1.toByteArray());
            byte[] member2 = gzip(m2.toByteArray());
            byte[] file = new byte[member1.length + member2.length / 2];
            System.arraycopy(member1, 0, file, 0, member1.length);
            System.arraycopy(member2, 0, file, member1.length, member2.length / 2);
            Files.write(in.resolve(name), file);
            int complete = completeLines(file);
            assertTrue(complete > 100 && complete < 300, "the damage is in member 2: " + complete + " complete lines");
            for (String id : ids.subList(complete, ids.size())) {
                good.remove(id); // lost with the damaged rest of the file: no record of them can be read
            }
            bad.add(new String[]{name, "unreadable after line " + complete + " (" + complete + " records kept)"});
        }

        // Invalid UTF-8 between good lines: a stray 0xFF, an overlong encoding, a lone continuation byte, a truncated
        // 3-byte sequence at the end of the text.
        {
            String name = "bad-utf8.jsonl";
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            byte[][] invalid = {{(byte) 0xFF}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0x80}, {(byte) 0xE2, (byte) 0x82}};
            int n = 0;
            for (byte[] b : invalid) {
                o.writeBytes((goodLine(name + "-" + n++) + "\n").getBytes(StandardCharsets.UTF_8));
                o.writeBytes("{\"id\": \"x\", \"text\": \"before ".getBytes(StandardCharsets.UTF_8));
                o.writeBytes(b);
                o.writeBytes(" after\"}\n".getBytes(StandardCharsets.UTF_8));
                n++;
                bad.add(new String[]{name, "line " + n + ": invalid UTF-8 at byte"});
            }
            o.writeBytes((goodLine(name + "-" + n) + "\n").getBytes(StandardCharsets.UTF_8));
            Files.write(in.resolve(name), o.toByteArray());
        }

        // NUL bytes: raw inside a JSON string (malformed JSON: quarantined), and escaped (data: stripped by cleaning).
        {
            String name = "nul.jsonl";
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.writeBytes((goodLine(name + "-0") + "\n").getBytes(StandardCharsets.UTF_8));
            o.writeBytes("{\"id\": \"raw-nul\", \"text\": \"a raw \0 byte\"}\n".getBytes(StandardCharsets.UTF_8));
            bad.add(new String[]{name, "line 2: invalid JSON"});
            o.writeBytes("{\"id\": \"raw-nuls\", \"text\": \"\0\0\0\0\"}\n".getBytes(StandardCharsets.UTF_8));
            bad.add(new String[]{name, "line 3: invalid JSON"});
            String text = text();
            int space = text.indexOf(' ');
            String withNul = text.substring(0, space + 1) + "\u0000" + text.substring(space + 1) + "\u0000";
            o.writeBytes((JSON.writeValueAsString(Map.of("id", name + "-escaped", "text", withNul)) + "\n").getBytes(StandardCharsets.UTF_8));
            good.put(name + "-escaped", text);
            Files.write(in.resolve(name), o.toByteArray());
        }

        // A 100 MB single line between two good ones.
        {
            String name = "huge.jsonl";
            writeHuge(in.resolve(name), 100 * MB);
            good.put("huge-first", HUGE_NEIGHBOUR_FIRST);
            good.put("huge-last", HUGE_NEIGHBOUR_LAST);
            bad.add(new String[]{name, "line 2: " + (HUGE_PREFIX.length() + 100 * MB + 2) + " bytes exceeds max-record-bytes (16777216)"});
        }

        // Empty files: no bytes at all, and a valid gzip stream of nothing.
        Files.write(in.resolve("empty.jsonl"), new byte[0]);
        bad.add(new String[]{"empty.jsonl", "empty file"});
        Files.write(in.resolve("empty.jsonl.gz"), gzip(new byte[0]));
        bad.add(new String[]{"empty.jsonl.gz", "empty file"});

        // JSON of the wrong types.
        {
            String name = "wrong-types.jsonl";
            List<String> lines = new ArrayList<>();
            String[][] wrong = {
                    {"{\"id\": \"n\", \"text\": 42}", "no string field \"text\" (it is a number)"},
                    {"{\"id\": \"a\", \"text\": [\"an\", \"array\"]}", "no string field \"text\" (it is an array)"},
                    {"{\"id\": \"o\", \"text\": {\"nested\": \"object\"}}", "no string field \"text\" (it is an object)"},
                    {"{\"id\": \"z\", \"text\": null}", "no string field \"text\" (it is null)"},
                    {"{\"id\": \"b\", \"text\": true}", "no string field \"text\" (it is a boolean)"},
                    {"{\"id\": \"m\", \"body\": \"no text field\"}", "no string field \"text\" (missing)"},
                    {"[\"an\", \"array\", \"line\"]", "not a JSON object"},
                    {"\"a bare string\"", "not a JSON object"},
                    {"17", "not a JSON object"},
                    {"{\"id\": \"t\", \"text\": \"truncated", "invalid JSON"},
            };
            lines.add(goodLine(name + "-0"));
            for (String[] w : wrong) {
                lines.add(w[0]);
                bad.add(new String[]{name, "line " + lines.size() + ": " + w[1]});
            }
            lines.add(goodLine(name + "-" + lines.size()));
            Files.writeString(in.resolve(name), String.join("\n", lines) + "\n");
        }

        // Folders matched by the glob where a file is expected: a folder stands for the files below it (markers and
        // hidden files skipped), an empty one for nothing.
        {
            Path dir = Files.createDirectories(in.resolve("nested.jsonl"));
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                lines.add(goodLine("nested-" + i));
            }
            Files.writeString(dir.resolve("part-00000.jsonl"), String.join("\n", lines) + "\n");
            Files.write(dir.resolve("_SUCCESS"), new byte[0]);
            Files.writeString(dir.resolve(".part-00000.jsonl.crc"), "crc");
            Files.createDirectories(in.resolve("empty-folder.jsonl"));
        }
    }

    private static final String HUGE_PREFIX = "{\"id\": \"huge\", \"text\": \"";
    private static final String HUGE_NEIGHBOUR_FIRST = "the first neighbour of the huge line " + words(60, 1);
    private static final String HUGE_NEIGHBOUR_LAST = "the last neighbour of the huge line " + words(60, 2);

    private static String words(int n, long seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            int len = 4 + r.nextInt(5);
            for (int j = 0; j < len; j++) {
                sb.append((char) ('a' + r.nextInt(26)));
            }
        }
        return sb.toString();
    }

    /** A good line, its huge middle line of {@code bytes} bytes of text (written in 1 MB chunks), a good line. */
    private static void writeHuge(Path file, long bytes) throws IOException {
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            o.write((JSON.writeValueAsString(Map.of("id", "huge-first", "text", HUGE_NEIGHBOUR_FIRST)) + "\n").getBytes(StandardCharsets.UTF_8));
            o.write(HUGE_PREFIX.getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[1 << 20];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = (byte) (i % 8 == 7 ? ' ' : 'a' + i % 7);
            }
            for (long left = bytes; left > 0; left -= chunk.length) {
                o.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
            o.write("\"}\n".getBytes(StandardCharsets.UTF_8));
            o.write((JSON.writeValueAsString(Map.of("id", "huge-last", "text", HUGE_NEIGHBOUR_LAST)) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A unique text of 60 to 90 random words from the vocabulary, recorded as a good record. */
    private String goodLine(String id) throws IOException {
        String text = text();
        good.put(id, text);
        return line(id, text);
    }

    private String text() {
        int n = 60 + random.nextInt(31);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(vocabulary.get(random.nextInt(vocabulary.size())));
        }
        return sb.toString();
    }

    private static String line(String id, String text) throws IOException {
        return JSON.writeValueAsString(Map.of("id", id, "text", text));
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(o)) {
            z.write(bytes);
        }
        return o.toByteArray();
    }

    /** Complete lines a gzip reader can recover before the damage (the ground truth, decoded independently). */
    private static int completeLines(byte[] file) {
        int lines = 0;
        try (InputStream z = new GZIPInputStream(new ByteArrayInputStream(file))) {
            byte[] buf = new byte[8192];
            for (int n; (n = z.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        lines++;
                    }
                }
            }
            throw new AssertionError("the truncated file read to its end");
        } catch (IOException expected) {
            return lines;
        }
    }

    /**
     * The heap during a run: the baseline after a full GC, the most heap any GC left in use (the live heap's peak,
     * within the GCs' granularity), the peak use the pools saw (garbage included) and the old generation's peak. The
     * old generation is where G1 allocates any array of half a region or more, straight away: a buffered 100 MB line
     * shows there at once, whether or not a GC runs while it is alive.
     */
    private static final class HeapWatch {
        record Peak(long baseline, long afterGc, long used, long oldBaseline, long oldPeak, String oldPool, long collections) {
        }

        private final long baseline;
        private final long oldBaseline;
        private final long collectionsBefore;
        private final AtomicLong afterGc = new AtomicLong();
        private final NotificationListener listener;

        private HeapWatch() {
            this.baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            this.oldBaseline = oldPool().map(p -> p.getUsage().getUsed()).orElse(0L);
            this.collectionsBefore = collections();
            this.afterGc.set(baseline);
            this.listener = (notification, handback) -> {
                if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    return;
                }
                GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                long used = 0;
                for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                    if (isHeap(e.getKey())) {
                        used += e.getValue().getUsed();
                    }
                }
                afterGc.accumulateAndGet(used, Math::max);
            };
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                ((NotificationEmitter) gc).addNotificationListener(listener, null, null);
            }
            ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
        }

        static HeapWatch start() {
            System.gc();
            return new HeapWatch();
        }

        Peak stop() throws Exception {
            long used = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).mapToLong(p -> p.getPeakUsage().getUsed()).sum();
            Optional<MemoryPoolMXBean> old = oldPool();
            long collections = collections() - collectionsBefore;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                ((NotificationEmitter) gc).removeNotificationListener(listener);
            }
            return new Peak(baseline, afterGc.get(), used, oldBaseline, old.map(p -> p.getPeakUsage().getUsed()).orElse(-1L),
                    old.map(MemoryPoolMXBean::getName).orElse("none"), collections);
        }

        private static Optional<MemoryPoolMXBean> oldPool() {
            return ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP && (p.getName().contains("Old") || p.getName().contains("Tenured")))
                    .findFirst();
        }

        private static long collections() {
            return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
        }

        private static boolean isHeap(String pool) {
            return ManagementFactory.getMemoryPoolMXBeans().stream().anyMatch(p -> p.getName().equals(pool) && p.getType() == MemoryType.HEAP);
        }
    }
}
