package dev.kiln.preprocess.clean;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextCleanerTest {

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
        TextCleaner c = new TextCleaner(dev.kiln.testing.PreprocessRuns.clean());
        String dirty = "\uFEFF\uFF28\uFF45llo\u00A0 \tworld\u200B!\u0007\r\n\r\n\r\n  ﬁne   line  \n\u0000end";
        assertEquals("Hello world!\n\nfine line\nend", c.clean(dirty));
        TextCleaner off = new TextCleaner(new CleanConfig(false, false, false, false, false, true));
        assertEquals(dirty, off.clean(dirty), "every step can be switched off");
    }

    @Test
    void piiIsMaskedButDatesAndVersionsAreNot() {
        String s = "Mail john.doe+x@example.co.uk or call +1 (555) 123-4567 / 555-987-6543; server 192.168.0.12 "
                + "and fe80::1ff:fe23:4567:890a. Released 2002-08-06, version 1.2.3, in 1999.";
        String masked = PiiMasker.mask(s);
        assertEquals("Mail <EMAIL> or call <PHONE_NUMBER> / <PHONE_NUMBER>; server <IP_ADDRESS> "
                + "and <IP_ADDRESS>. Released 2002-08-06, version 1.2.3, in 1999.", masked);
        TextCleaner c = new TextCleaner(new CleanConfig(true, true, true, true, true, true));
        assertEquals("write to <EMAIL>", c.clean("write to a@b.org"));
    }
}
