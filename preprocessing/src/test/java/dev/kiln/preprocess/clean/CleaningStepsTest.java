package dev.kiln.preprocess.clean;

import dev.kiln.preprocess.doc.Cleaner;
import dev.kiln.preprocess.doc.DocPipeline;
import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.doc.Verdict;
import dev.kiln.testing.PreprocessRuns;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cleaning steps on literal documents, alone and as the list the config builds. */
class CleaningStepsTest {
    private static final Document DOC = Document.of("file:/in/a.txt", "", "placeholder", Map.of("format", "text"));

    private static DocPipeline.Outcome run(CleanConfig cfg, String text) {
        return DocPipeline.of(CleaningSteps.from(cfg)).run(DOC.withText(text));
    }

    private static String clean(CleanConfig cfg, String text) {
        DocPipeline.Outcome o = run(cfg, text);
        assertInstanceOf(DocPipeline.Outcome.Kept.class, o, o.toString());
        return o.document().text();
    }

    @Test
    void htmlBecomesTextWithParagraphsAndWithoutScripts() {
        String html = "<html><head><title>t</title><script>var x = 1;</script></head><body>"
                + "<h1>Title</h1><p>First &amp; <b>bold</b> paragraph.</p><div>Line one<br>Line two</div>"
                + "<ul><li>item a</li><li>item b</li></ul><table><tr><td>c1</td><td>c2</td></tr></table></body></html>";
        String text = HtmlText.toText(html);
        assertEquals("Title\n\nFirst & bold paragraph.\n\nLine one\nLine two\n\nitem a\nitem b\n\nc1 c2", text);
        assertTrue(HtmlText.looksLikeHtml(html));
        assertFalse(HtmlText.looksLikeHtml("if a < b and b > c then <nothing>"));
    }

    @Test
    void nfkcControlCharactersAndWhitespace() {
        String dirty = "\uFEFF\uFF28\uFF45llo\u00A0 \tworld\u200B!\u0007\r\n\r\n\r\n  ﬁne   line  \n\u0000end";
        assertEquals("Hello world!\n\nfine line\nend", clean(PreprocessRuns.clean(), dirty));
        CleanConfig off = new CleanConfig(false, false, false, false, false, false);
        assertEquals(dirty, clean(off, dirty), "every step can be switched off");
        assertEquals(List.of(CleaningSteps.EMPTY_AFTER_CLEANING), CleaningSteps.from(off).stream().map(s -> s.name()).toList(),
                "only the emptiness check is left");
    }

    @Test
    void piiIsMaskedButDatesAndVersionsAreNot() {
        String s = "Mail john.doe+x@example.co.uk or call +1 (555) 123-4567 / 555-987-6543; server 192.168.0.12 "
                + "and fe80::1ff:fe23:4567:890a. Released 2002-08-06, version 1.2.3, in 1999.";
        String masked = PiiMasker.mask(s);
        assertEquals("Mail <EMAIL> or call <PHONE_NUMBER> / <PHONE_NUMBER>; server <IP_ADDRESS> "
                + "and <IP_ADDRESS>. Released 2002-08-06, version 1.2.3, in 1999.", masked);
        assertEquals("write to <EMAIL>", clean(new CleanConfig(true, true, true, true, true, true), "write to a@b.org"));
        assertEquals("write to a@b.org", clean(PreprocessRuns.clean(), "write to a@b.org"), "masking is off by default");
    }

    @Test
    void theConfigBuildsTheCleanersInOrderThenTheEmptinessCheck() {
        assertEquals(List.of("mail_html_to_text", "strip_mail_headers", "html_to_text", "unicode_nfkc", "remove_control_chars",
                        "normalize_whitespace", "empty_after_cleaning"),
                CleaningSteps.from(PreprocessRuns.clean()).stream().map(s -> s.name()).toList());
        assertEquals(List.of("mail_html_to_text", "strip_mail_headers", "html_to_text", "unicode_nfkc", "remove_control_chars",
                "normalize_whitespace", "mask_pii", "empty_after_cleaning"),
                CleaningSteps.from(PreprocessRuns.clean("mask-pii", "true")).stream().map(s -> s.name()).toList());
        assertEquals(List.of("unicode_nfkc", "remove_control_chars", "normalize_whitespace", "empty_after_cleaning"),
                CleaningSteps.from(PreprocessRuns.clean("html-to-text", "false", "strip-mail-headers", "false")).stream()
                        .map(s -> s.name()).toList());
    }

    private static final String HEADERS = "From: a@example.com\nSubject: Hi\nContent-Type: text/html\n";

    private static Document mail(String contentType, String text) {
        return Document.of("file:/in/spam-1/0001.txt", "", text, Map.of("format", "mail", "content_type", contentType));
    }

    private static String apply(Cleaner step, Document doc) {
        return ((Verdict.Keep) step.apply(doc)).document().text();
    }

    @Test
    void mailStepsConvertAnHtmlBodyUnderItsHeadersThenStripTheHeaderBlock() {
        // The reader's text: the header block, a blank line, the body parts as decoded.
        Document html = mail("text/html", HEADERS + "\n" + "<p>Hello&nbsp;<b>you</b></p>\n\n<p>Second</p>");
        assertEquals(HEADERS + "\nHello you\n\nSecond", apply(new CleaningSteps.MailHtmlToText(), html), "the headers stay for the next step");
        assertEquals("<p>Hello&nbsp;<b>you</b></p>\n\n<p>Second</p>", apply(new CleaningSteps.StripMailHeaders(), html));
        // A text/html body is converted even when the cheap check would not call it HTML.
        Document entity = mail("text/html", HEADERS + "\nFish &amp; chips <em>today</em>");
        assertFalse(HtmlText.looksLikeHtml("Fish &amp; chips <em>today</em>"));
        assertEquals(HEADERS + "\nFish & chips today", apply(new CleaningSteps.MailHtmlToText(), entity));
        // A text/plain mail, and any document that is not a mail, are left alone by the mail steps.
        Document plain = mail("text/plain", HEADERS + "\nFish &amp; chips <em>today</em>\n\nBye");
        assertSame(plain.text(), apply(new CleaningSteps.MailHtmlToText(), plain));
        assertEquals("Fish &amp; chips <em>today</em>\n\nBye", apply(new CleaningSteps.StripMailHeaders(), plain), "only the first blank line ends the headers");
        Document text = DOC.withText("Not: a header\n\nbody");
        assertSame(text.text(), apply(new CleaningSteps.StripMailHeaders(), text));
        // No headers (the text starts with the blank line), and a message that is all headers.
        assertEquals("body\n\nmore", apply(new CleaningSteps.StripMailHeaders(), mail("text/plain", "\nbody\n\nmore")));
        assertEquals("", apply(new CleaningSteps.StripMailHeaders(), mail("text/plain", "Subject: x\nFrom: y\n")));
        // Through the configured steps: headers gone by default, kept before the cleaned body when switched off.
        DocPipeline defaults = DocPipeline.of(CleaningSteps.from(PreprocessRuns.clean()));
        assertEquals("Hello you\n\nSecond", defaults.run(html).document().text());
        DocPipeline keepHeaders = DocPipeline.of(CleaningSteps.from(PreprocessRuns.clean("strip-mail-headers", "false")));
        assertEquals(HEADERS + "\nHello you\n\nSecond", keepHeaders.run(html).document().text());
        assertEquals(html.id(), defaults.run(html).document().id(), "the id stays the one of the message as read");
    }

    @Test
    void eachCleanerAloneRewritesOnlyTheTextAndKeepsIdAndMetadata() {
        Document html = DOC.withText("<p>One &amp; two</p><p>three</p>");
        Verdict.Keep k = (Verdict.Keep) new CleaningSteps.HtmlToText().apply(html);
        assertEquals("One & two\n\nthree", k.document().text());
        assertEquals(html.id(), k.document().id(), "the id stays the one of the text as read");
        assertEquals(html.metadata(), k.document().metadata());
        Document plain = DOC.withText("a < b and c > d");
        assertSame(plain, ((Verdict.Keep) new CleaningSteps.HtmlToText().apply(plain)).document(), "text that is not HTML is left alone");
        assertEquals("fi", ((Verdict.Keep) new CleaningSteps.UnicodeNfkc().apply(DOC.withText("\uFB01"))).document().text());
        assertEquals("ab", ((Verdict.Keep) new CleaningSteps.RemoveControlChars().apply(DOC.withText("a\u200Bb\u0007"))).document().text());
        assertEquals("a b\n\nc", ((Verdict.Keep) new CleaningSteps.NormalizeWhitespace().apply(DOC.withText(" a \t b\r\n\r\n\r\nc "))).document().text());
        assertEquals("ip <IP_ADDRESS>", ((Verdict.Keep) new CleaningSteps.MaskPii().apply(DOC.withText("ip 10.0.0.1"))).document().text());
    }

    @Test
    void aDocumentCleaningLeavesBlankIsDroppedAsEmptyAfterCleaning() {
        DocPipeline.Outcome o = run(PreprocessRuns.clean(), "<html><body><script>x = 1;</script> \u200B </body></html>");
        DocPipeline.Outcome.Dropped d = assertInstanceOf(DocPipeline.Outcome.Dropped.class, o);
        assertEquals(CleaningSteps.EMPTY_AFTER_CLEANING, d.drop().reason());
        assertEquals("empty_after_cleaning: 0 whitespace characters", d.drop().detail());
        assertEquals(CleaningSteps.from(PreprocessRuns.clean()).size() - 1, d.step(), "the last step drops it");
        assertEquals("", d.document().text(), "the outcome carries the cleaned text");
    }
}
