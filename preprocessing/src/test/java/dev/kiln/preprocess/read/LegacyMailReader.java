package dev.kiln.preprocess.read;

import dev.kiln.preprocess.clean.CleanConfig;
import dev.kiln.preprocess.clean.HtmlText;
import dev.kiln.preprocess.doc.Document;
import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;
import org.apache.hadoop.fs.Path;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * TEST ONLY: the mail reader as it was before header stripping and HTML to text became cleaning steps (MailParser
 * and FileReaders.mailDocument of commit 264ec12, copied unchanged but for the names), the reference
 * {@code MailStepsEquivalenceTest} holds the new reader and steps to. Do not change it to follow the new code.
 *
 * <p>Raw RFC 822 / MIME message to text, with Jakarta Mail doing the MIME structure and transfer decoding
 * (quoted-printable, base64, RFC 2047 encoded subjects). Kiln chooses the body: the text/plain parts, else the
 * text/html parts converted to text; attachments are skipped. Charsets come from the part's header; a missing or
 * unknown one falls back to UTF-8 when the bytes are valid UTF-8, else windows-1252 (what 2002-era mail used).
 */
public final class LegacyMailReader {
    /** The parsed message: decoded subject (may be empty), header block (raw, unfolded lines) and body text. */
    public record Mail(String subject, String headers, String body, String bodyType) {
    }

    /** The message has neither a text/plain nor a text/html part. */
    public static final class NoTextException extends Exception {
        NoTextException(String message) {
            super(message);
        }
    }

    private static final Session SESSION;

    static {
        Properties p = new Properties();
        // Spam is malformed on purpose: be lenient everywhere Jakarta Mail lets us.
        p.setProperty("mail.mime.address.strict", "false");
        p.setProperty("mail.mime.parameters.strict", "false");
        p.setProperty("mail.mime.base64.ignoreerrors", "true");
        p.setProperty("mail.mime.uudecode.ignoreerrors", "true");
        p.setProperty("mail.mime.decodetext.strict", "false");
        p.setProperty("mail.mime.multipart.ignoremissingendboundary", "true");
        p.setProperty("mail.mime.multipart.ignoremissingboundaryparameter", "true");
        p.setProperty("mail.mime.multipart.allowempty", "true");
        p.setProperty("mail.mime.ignoreunknownencoding", "true");
        SESSION = Session.getInstance(p);
    }

    private LegacyMailReader() {
    }

    /** FileReaders.mailDocument and the mail part of readWhole's error handling, as they were. */
    public static ReadRecord read(InputFile file, byte[] bytes, CleanConfig clean) {
        try {
            Mail mail = parse(bytes, clean.htmlToText());
            Map<String, String> meta = FileReaders.baseMetadata(file);
            meta.put("subject", mail.subject());
            meta.put("content_type", mail.bodyType());
            Path parent = new Path(file.path()).getParent();
            String folder = parent == null ? "" : parent.getName();
            if (!folder.isEmpty()) {
                meta.put("folder", folder);
                String f = folder.toLowerCase(Locale.ROOT);
                if (f.contains("spam")) {
                    meta.put("label", "spam");
                } else if (f.contains("ham")) {
                    meta.put("label", "ham");
                }
            }
            String text = clean.stripMailHeaders() ? mail.body() : mail.headers() + "\n" + mail.body();
            return ReadRecord.of(Document.of(file.path(), "", text, meta));
        } catch (NoTextException e) {
            return ReadRecord.quarantine(file.path(), "mail: " + e.getMessage());
        } catch (Exception e) {
            return ReadRecord.quarantine(file.path(), "cannot parse: " + FileReaders.describe(e));
        }
    }

    public static Mail parse(byte[] raw, boolean htmlToText) throws MessagingException, IOException, NoTextException {
        int start = 0;
        // An mbox "From " separator line is not a header; Jakarta Mail would fold it into the first header.
        if (raw.length > 5 && raw[0] == 'F' && raw[1] == 'r' && raw[2] == 'o' && raw[3] == 'm' && raw[4] == ' ') {
            while (start < raw.length && raw[start] != '\n') {
                start++;
            }
            start = Math.min(raw.length, start + 1);
        }
        MimeMessage msg = new MimeMessage(SESSION, new ByteArrayInputStream(raw, start, raw.length - start));
        String subject = decodeHeader(msg.getHeader("Subject", null));
        StringBuilder headers = new StringBuilder();
        for (Enumeration<String> e = msg.getAllHeaderLines(); e.hasMoreElements(); ) {
            headers.append(e.nextElement().replaceAll("\r?\n[ \t]+", " ")).append('\n');
        }
        List<String> plain = new ArrayList<>();
        List<String> html = new ArrayList<>();
        collect(msg, plain, html, 0);
        String body;
        String type;
        if (!plain.isEmpty()) {
            body = String.join("\n\n", plain);
            type = "text/plain";
        } else if (!html.isEmpty()) {
            List<String> texts = new ArrayList<>();
            for (String h : html) {
                texts.add(htmlToText ? HtmlText.toText(h) : h);
            }
            body = String.join("\n\n", texts);
            type = "text/html";
        } else {
            throw new NoTextException("no text/plain or text/html part (content type " + safeContentType(msg) + ")");
        }
        return new Mail(subject, headers.toString(), body, type);
    }

    /** Walks the MIME tree: text/plain and text/html parts that are not attachments, depth-first in order. */
    private static void collect(Part part, List<String> plain, List<String> html, int depth) throws MessagingException, IOException {
        if (depth > 20) {
            return;
        }
        String type = safeContentType(part);
        if (type.startsWith("multipart/")) {
            Object content;
            try {
                content = part.getContent();
            } catch (IOException | MessagingException e) {
                // A multipart whose structure cannot be parsed: take its raw text as plain text.
                plain.add(decodeBody(part));
                return;
            }
            if (!(content instanceof Multipart mp)) {
                return;
            }
            if (type.startsWith("multipart/alternative")) {
                // Prefer the plain alternative; fall back to the richest (last) HTML one.
                List<String> altPlain = new ArrayList<>();
                List<String> altHtml = new ArrayList<>();
                for (int i = 0; i < mp.getCount(); i++) {
                    collect(mp.getBodyPart(i), altPlain, altHtml, depth + 1);
                }
                if (!altPlain.isEmpty()) {
                    plain.add(altPlain.get(0));
                } else if (!altHtml.isEmpty()) {
                    html.add(altHtml.get(altHtml.size() - 1));
                }
                return;
            }
            for (int i = 0; i < mp.getCount(); i++) {
                BodyPart bp = mp.getBodyPart(i);
                if (!isAttachment(bp)) {
                    collect(bp, plain, html, depth + 1);
                }
            }
        } else if (type.startsWith("message/rfc822")) {
            Object content = part.getContent();
            if (content instanceof Part inner) {
                collect(inner, plain, html, depth + 1);
            }
        } else if (type.startsWith("text/html")) {
            html.add(decodeBody(part));
        } else if (type.startsWith("text/") && !type.startsWith("text/enriched") || type.isEmpty()) {
            plain.add(decodeBody(part));
        }
    }

    private static boolean isAttachment(BodyPart bp) {
        try {
            return Part.ATTACHMENT.equalsIgnoreCase(bp.getDisposition()) || bp.getFileName() != null;
        } catch (MessagingException e) {
            return false;
        }
    }

    private static String safeContentType(Part part) {
        try {
            String ct = part.getContentType();
            return ct == null ? "text/plain" : ct.toLowerCase(Locale.ROOT).trim();
        } catch (MessagingException e) {
            return "text/plain";
        }
    }

    /** The part's transfer-decoded bytes, decoded with its declared charset (or the fallbacks). */
    private static String decodeBody(Part part) throws MessagingException, IOException {
        byte[] bytes;
        try (InputStream in = part.getInputStream()) {
            bytes = in.readAllBytes();
        } catch (IOException | MessagingException e) {
            // Broken transfer encoding: use the raw (still encoded) bytes rather than losing the message.
            InputStream raw = part instanceof jakarta.mail.internet.MimeBodyPart b ? b.getRawInputStream()
                    : part instanceof MimeMessage m ? m.getRawInputStream() : null;
            if (raw == null) {
                throw e;
            }
            try (InputStream in = raw) {
                bytes = in.readAllBytes();
            }
        }
        return decodeCharset(bytes, charsetOf(part));
    }

    private static String charsetOf(Part part) {
        try {
            String ct = part.getContentType();
            if (ct == null) {
                return null;
            }
            return new ContentType(ct).getParameter("charset");
        } catch (Exception e) {
            return null;
        }
    }

    static String decodeCharset(byte[] bytes, String declared) {
        if (declared != null) {
            try {
                Charset cs = Charset.forName(MimeUtility.javaCharset(declared.trim().replace("\"", "")));
                // A part declared us-ascii often carries 8-bit text anyway; decode it as the fallbacks would.
                if (!cs.equals(StandardCharsets.US_ASCII)) {
                    return new String(bytes, cs);
                }
            } catch (IllegalArgumentException e) {
                // Unknown charset name: fall through to detection.
            }
        }
        return Utf8.isValid(bytes) ? new String(bytes, StandardCharsets.UTF_8) : new String(bytes, Charset.forName("windows-1252"));
    }

    private static String decodeHeader(String raw) {
        if (raw == null) {
            return "";
        }
        String unfolded = raw.replaceAll("\r?\n[ \t]*", " ").trim();
        try {
            return MimeUtility.decodeText(unfolded);
        } catch (Exception e) {
            return unfolded;
        }
    }
}
