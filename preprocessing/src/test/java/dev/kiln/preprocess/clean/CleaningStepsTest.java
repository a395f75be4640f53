package dev.kiln.preprocess.clean;

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
        assertInstanceOf(DocPipeline.Outcome.Passed.class, o, o.toString());
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
        CleanConfig off = new CleanConfig(false, false, false, false, false, true);
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
        assertEquals(List.of("html_to_text", "unicode_nfkc", "remove_control_chars", "normalize_whitespace", "empty_after_cleaning"),
                CleaningSteps.from(PreprocessRuns.clean()).stream().map(s -> s.name()).toList());
        assertEquals(List.of("html_to_text", "unicode_nfkc", "remove_control_chars", "normalize_whitespace", "mask_pii",
                "empty_after_cleaning"), CleaningSteps.from(PreprocessRuns.clean("mask-pii", "true")).stream().map(s -> s.name()).toList());
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
