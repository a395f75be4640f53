package dev.kiln.preprocess.read;

import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.DocumentProcessor;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.Processed;
import dev.kiln.preprocess.dedup.TextHash;
import dev.kiln.preprocess.doc.DocPipeline;
import dev.kiln.preprocess.doc.DocStep;
import dev.kiln.preprocess.doc.Document;
import dev.kiln.testing.PreprocessRuns;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mail reader emits messages as read and cleaning steps strip the headers and convert the HTML: over every
 * message of the real SpamAssassin sample, and for each setting of {@code html-to-text} and
 * {@code strip-mail-headers}, the documents that come out of the cleaning steps and quality filters are the ones the
 * old reader, which cleaned mail itself ({@link LegacyMailReader}), gave: same final text, same keep / drop / quarantine
 * verdict with the same reason, same metadata. Only the id changes (it hashes the message as read, now the raw message).
 */
class MailStepsEquivalenceTest {
    private static final Set<String> MAIL_STEPS = Set.of("mail_html_to_text", "strip_mail_headers");

    @Test
    void newReaderAndStepsGiveTheOldFinalDocumentsForEveryMessage() throws Exception {
        Configuration conf = new Configuration();
        String root = SampleCorpora.spamAssassin().toString();
        String[][] variants = {{}, {"clean.strip-mail-headers", "false"}, {"clean.html-to-text", "false"},
                {"clean.strip-mail-headers", "false", "clean.html-to-text", "false"}};
        PreprocessConfig[] cfgs = new PreprocessConfig[variants.length];
        DocumentProcessor[] now = new DocumentProcessor[variants.length];
        DocPipeline[] before = new DocPipeline[variants.length];
        for (int v = 0; v < variants.length; v++) {
            String[] o = new String[variants[v].length + 6];
            System.arraycopy(new String[] {"input.paths", "[\"" + root + "/*/*.txt\"]", "input.format", "mail", "output.path", "unused"}, 0, o, 0, 6);
            System.arraycopy(variants[v], 0, o, 6, variants[v].length);
            cfgs[v] = PreprocessRuns.config(o);
            now[v] = new DocumentProcessor(cfgs[v].clean(), cfgs[v].filter());
            // The old pipeline: the same steps without the two mail steps (their work was the reader's).
            List<DocStep> old = now[v].pipeline().steps().stream().filter(s -> !MAIL_STEPS.contains(s.name())).toList();
            assertEquals(now[v].pipeline().steps().size() - (cfgs[v].clean().htmlToText() ? 1 : 0)
                    - (cfgs[v].clean().stripMailHeaders() ? 1 : 0), old.size());
            before[v] = DocPipeline.of(old);
        }
        List<InputFile> files = InputListing.list(cfgs[0].input().paths(), InputFormat.MAIL, conf);
        assertEquals(6046, files.size(), "the whole SpamAssassin sample");
        int[] kept = new int[variants.length];
        int[] newIds = new int[variants.length];
        int quarantined = 0;
        int html = 0;
        for (InputFile f : files) {
            Iterator<ReadRecord> it = FileReaders.read(f, cfgs[0].input(), conf);
            ReadRecord read = it.next();
            assertFalse(it.hasNext(), "one record per message");
            byte[] bytes = Files.readAllBytes(Path.of(new org.apache.hadoop.fs.Path(f.path()).toUri()));
            if (read instanceof ReadRecord.Read r) {
                Document doc = r.document();
                assertEquals("mail", doc.metadata().get("format"));
                assertTrue(doc.text().startsWith(MailParser.parse(bytes).headers() + "\n"), f.path() + ": the header block, then a blank line");
                if ("text/html".equals(doc.metadata().get("content_type"))) {
                    html++;
                }
            } else {
                quarantined++;
            }
            for (int v = 0; v < variants.length; v++) {
                String where = f.path() + " with " + String.join("=", variants[v]);
                Processed n = now[v].process(read);
                ReadRecord oldRead = LegacyMailReader.read(f, bytes, cfgs[v].clean());
                Processed o = oldRecord(before[v], oldRead);
                assertEquals(outcome(o), outcome(n), where);
                if (o instanceof Processed.Quarantined) {
                    continue;
                }
                Document od = document(o);
                Document nd = document(n);
                assertEquals(od.text(), nd.text(), where);
                assertEquals(od.metadata(), nd.metadata(), where);
                assertEquals(od.source(), nd.source(), where);
                // The id hashes the message as read: it changed exactly where the old reader had cleaned the text.
                String asRead = ((ReadRecord.Read) read).document().text();
                assertEquals(Document.idOf(f.path(), "", asRead), nd.id(), where);
                boolean oldReaderCleaned = !((ReadRecord.Read) oldRead).document().text().equals(asRead);
                assertEquals(oldReaderCleaned, !od.id().equals(nd.id()), where);
                if (oldReaderCleaned) {
                    newIds[v]++;
                }
                if (n instanceof Processed.Kept k) {
                    kept[v]++;
                    assertEquals(((Processed.Kept) o).hash(), k.hash(), where);
                    assertEquals(((Processed.Kept) o).bytesCleaned(), k.bytesCleaned(), where);
                }
            }
        }
        System.out.printf("[mail steps] %d messages, %d quarantined, %d text/html; kept per variant %s: same as the old reader; "
                + "new ids per variant %s%n", files.size(), quarantined, html, Arrays.toString(kept), Arrays.toString(newIds));
        assertEquals(files.size() - quarantined, newIds[0], "by default every document read has a new id");
        assertEquals(0, newIds[3], "without header stripping and HTML to text the old reader read the message as the new one does");
        assertTrue(html >= 200 && kept[0] > 4500, html + " html, " + quarantined + " quarantined, " + kept[0] + " kept");
    }

    /** The old path: the old reader's record through the steps the old pipeline had. */
    private static Processed oldRecord(DocPipeline old, ReadRecord r) {
        if (r instanceof ReadRecord.Quarantined q) {
            return new Processed.Quarantined(q.path(), q.reason());
        }
        Document doc = ((ReadRecord.Read) r).document();
        DocPipeline.Outcome outcome = old.run(doc);
        Document last = outcome.document();
        if (outcome instanceof DocPipeline.Outcome.Dropped d) {
            return new Processed.Dropped(last, d.step(), d.drop(), Document.utf8Length(doc.text()), Document.utf8Length(last.text()));
        }
        return new Processed.Kept(last, TextHash.of(last.text()), Document.utf8Length(doc.text()),
                Document.utf8Length(last.text()));
    }

    private static String outcome(Processed p) {
        if (p instanceof Processed.Quarantined q) {
            return "quarantined: " + q.reason();
        }
        if (p instanceof Processed.Dropped r) {
            return "removed: " + r.drop().reason() + " (" + r.drop().detail() + ")";
        }
        return "kept";
    }

    private static Document document(Processed p) {
        return p instanceof Processed.Kept k ? k.document() : ((Processed.Dropped) p).document();
    }
}
