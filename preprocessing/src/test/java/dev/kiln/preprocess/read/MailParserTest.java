package dev.kiln.preprocess.read;

import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.clean.HtmlText;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MailParserTest {
    private static final Pattern BASE64_LINE = Pattern.compile("(?m)^[A-Za-z0-9+/]{60,}={0,2}$");
    private static final Pattern QP_ESCAPE = Pattern.compile("=(20|3D|09|0A)");
    private static final Pattern HTML_TAG = Pattern.compile("(?i)<(html|body|p|br|font|table|td|div)[\\s>/]");

    @Test
    void multipartAlternativePrefersPlainTextAndDecodesQuotedPrintableAndSubject() throws Exception {
        String raw = """
                From someone@example.com  Tue Aug  6 11:51:02 2002
                Subject: =?UTF-8?B?Q2Fmw6kgbWVudQ==?=
                MIME-Version: 1.0
                Content-Type: multipart/alternative; boundary="XX"

                --XX
                Content-Type: text/plain; charset=UTF-8
                Content-Transfer-Encoding: quoted-printable

                Caf=C3=A9 opens at nine. This line is soft=
                 wrapped.
                --XX
                Content-Type: text/html; charset=UTF-8

                <html><body><p>Caf&eacute; HTML</p></body></html>
                --XX--
                """;
        MailParser.Mail m = MailParser.parse(raw.getBytes(StandardCharsets.US_ASCII));
        assertEquals("Café menu", m.subject());
        assertEquals("text/plain", m.bodyType());
        assertTrue(m.body().contains("Café opens at nine. This line is soft wrapped."), m.body());
        assertFalse(m.body().contains("HTML"));
    }

    @Test
    void htmlOnlyBase64BodyIsDecodedButLeftAsHtmlAndAttachmentsAreSkipped() throws Exception {
        String html = "<html><head><style>p{}</style></head><body><p>Hello <b>world</b></p><p>Second&nbsp;para</p></body></html>";
        String b64 = Base64.getMimeEncoder().encodeToString(html.getBytes(StandardCharsets.UTF_8));
        String raw = "Subject: hi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n"
                + "--B\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + b64 + "\n"
                + "--B\nContent-Type: text/plain; name=\"notes.txt\"\nContent-Disposition: attachment; filename=\"notes.txt\"\n\nATTACHED TEXT\n"
                + "--B--\n";
        MailParser.Mail m = MailParser.parse(raw.getBytes(StandardCharsets.US_ASCII));
        assertEquals("text/html", m.bodyType());
        assertEquals(List.of(html), m.parts(), "decoded, still HTML: converting it is a cleaning step's work");
        assertEquals("Subject: hi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n" + html, m.asRead());
    }

    @Test
    void undeclaredEightBitTextFallsBackToWindows1252AndImageOnlyMailIsRejected() throws Exception {
        byte[] latin1 = "Subject: x\n\nna\u00EFve caf\u00E9\n".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("naïve café", MailParser.parse(latin1).body().strip());
        String image = "Subject: pic\nMIME-Version: 1.0\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n";
        assertThrows(MailParser.NoTextException.class, () -> MailParser.parse(image.getBytes(StandardCharsets.US_ASCII)));
    }

    /** Over the whole real corpus: every top-level base64 and quoted-printable message comes out decoded, HTML as HTML. */
    @Test
    void realSpamAssassinMessagesAreDecoded() throws Exception {
        int base64 = 0;
        int qp = 0;
        int html = 0;
        int htmlAsRead = 0;
        int parsed = 0;
        List<Path> files;
        try (Stream<Path> s = Files.walk(SampleCorpora.spamAssassin())) {
            files = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        for (Path p : files) {
            byte[] raw = Files.readAllBytes(p);
            String head = topHeaders(raw);
            MailParser.Mail m;
            try {
                m = MailParser.parse(raw);
            } catch (MailParser.NoTextException e) {
                continue; // attachment-only messages are quarantined by the reader
            }
            parsed++;
            // What the HTML cleaning step makes of an HTML body: an escape left inside a tag (a link) does not count.
            String text = m.bodyType().equals("text/html") ? HtmlText.toText(m.body()) : m.body();
            boolean textTop = !head.contains("content-type: multipart") && !head.contains("content-type: image");
            if (textTop && head.contains("content-transfer-encoding: base64")) {
                base64++;
                assertFalse(BASE64_LINE.matcher(text).find(), p + " still has base64 lines");
            }
            if (textTop && head.contains("content-transfer-encoding: quoted-printable")) {
                qp++;
                assertFalse(QP_ESCAPE.matcher(text).find(), p + " still has quoted-printable escapes: " + text);
            }
            if (head.contains("content-type: text/html")) {
                html++;
                assertEquals("text/html", m.bodyType(), p.toString());
                if (HTML_TAG.matcher(m.body()).find()) {
                    htmlAsRead++;
                }
                assertFalse(HTML_TAG.matcher(text).find(), p + " has HTML tags after HTML to text");
            }
        }
        System.out.printf("parsed %d of %d messages: %d base64, %d quoted-printable, %d HTML (top level)%n",
                parsed, files.size(), base64, qp, html);
        assertTrue(parsed > 6000, "parsed " + parsed);
        assertTrue(base64 >= 5 && qp >= 50 && html >= 200, base64 + " base64, " + qp + " qp, " + html + " html");
        assertTrue(htmlAsRead > html * 9 / 10, htmlAsRead + " of " + html + " HTML messages read with their tags");
    }

    private static String topHeaders(byte[] raw) {
        String s = new String(raw, StandardCharsets.ISO_8859_1);
        int end = s.indexOf("\n\n");
        return (end < 0 ? s : s.substring(0, end)).replaceAll("\n[ \t]+", " ").toLowerCase(Locale.ROOT);
    }
}
