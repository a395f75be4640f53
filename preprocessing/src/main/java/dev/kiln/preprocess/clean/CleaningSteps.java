package dev.kiln.preprocess.clean;

import dev.kiln.preprocess.doc.Cleaner;
import dev.kiln.preprocess.doc.DocStep;
import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.doc.Filter;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The cleaning steps, each switched by {@link CleanConfig}, in a fixed order: the mail steps (the HTML body of a
 * mail to text, then its header block stripped), HTML to text, NFKC, control-character removal, whitespace
 * normalisation, PII masking (last, so it sees the final spacing); then a document that cleaning left blank is
 * dropped as {@value #EMPTY_AFTER_CLEANING}.
 *
 * <p>The mail reader emits a message as read (header block, blank line, body parts as decoded); the two mail steps
 * come first so that the generic steps see what they saw when the reader cleaned mail itself: a text/html body
 * converted on its own (headers untouched), then the headers gone (or kept, when {@code strip-mail-headers = false}),
 * then HTML to text of whatever still looks like HTML. {@code MailStepsEquivalenceTest} holds the result to the old
 * reader's over the whole SpamAssassin sample.
 */
public final class CleaningSteps {
    /** Removal reason of a document that cleaning left empty (counted under the clean stage in stats.json). */
    public static final String EMPTY_AFTER_CLEANING = "empty_after_cleaning";

    private CleaningSteps() {
    }

    /** The enabled cleaners in order, then the emptiness check (always on). */
    public static List<DocStep> from(CleanConfig config) {
        List<DocStep> steps = new ArrayList<>();
        if (config.htmlToText()) {
            steps.add(new MailHtmlToText());
        }
        if (config.stripMailHeaders()) {
            steps.add(new StripMailHeaders());
        }
        if (config.htmlToText()) {
            steps.add(new HtmlToText());
        }
        if (config.unicodeNfkc()) {
            steps.add(new UnicodeNfkc());
        }
        if (config.removeControlChars()) {
            steps.add(new RemoveControlChars());
        }
        if (config.normalizeWhitespace()) {
            steps.add(new NormalizeWhitespace());
        }
        if (config.maskPii()) {
            steps.add(new MaskPii());
        }
        steps.add(new EmptyAfterCleaning());
        return List.copyOf(steps);
    }

    /** The {@code format} metadata value of documents the mail reader made. */
    public static final String MAIL_FORMAT = "mail";

    /** Whether the mail reader made {@code doc} (its text starts with the message's header block). */
    static boolean isMail(Document doc) {
        return MAIL_FORMAT.equals(doc.metadata().get("format"));
    }

    /**
     * Where the header block of a mail's text ends: after its first blank line (the header block holds none, one
     * unfolded header per line), or at 0 when the text starts with the blank line (no headers). A text without a blank
     * line is all header block, as in RFC 5322, and has no body.
     */
    static int bodyStart(String text) {
        if (text.startsWith("\n")) {
            return 1;
        }
        int blank = text.indexOf("\n\n");
        return blank < 0 ? text.length() : blank + 2;
    }

    /**
     * The body of a mail whose chosen parts are HTML ({@code content_type = text/html}) becomes its text, whether or
     * not {@link HtmlText#looksLikeHtml} would fire; the header block before it is left as it is (stripping it is
     * {@link StripMailHeaders}'s work). Several HTML parts are converted as one document, joined as read (none of
     * the SpamAssassin sample's messages has more than one).
     */
    public static final class MailHtmlToText extends Cleaner {
        public MailHtmlToText() {
            super("mail_html_to_text");
        }

        @Override
        protected String clean(Document doc) {
            if (!isMail(doc) || !"text/html".equals(doc.metadata().get("content_type"))) {
                return doc.text();
            }
            String text = doc.text();
            int body = bodyStart(text);
            return text.substring(0, body) + HtmlText.toText(text.substring(body));
        }

        @Override
        protected String clean(String text) {
            return text;
        }
    }

    /** A mail loses its header block, up to and including the first blank line; other documents are left alone. */
    public static final class StripMailHeaders extends Cleaner {
        public StripMailHeaders() {
            super("strip_mail_headers");
        }

        @Override
        protected String clean(Document doc) {
            return isMail(doc) ? doc.text().substring(bodyStart(doc.text())) : doc.text();
        }

        @Override
        protected String clean(String text) {
            return text;
        }
    }

    /** A document that looks like HTML (see {@link HtmlText#looksLikeHtml}) becomes its text. */
    public static final class HtmlToText extends Cleaner {
        public HtmlToText() {
            super("html_to_text");
        }

        @Override
        protected String clean(String text) {
            return HtmlText.looksLikeHtml(text) ? HtmlText.toText(text) : text;
        }
    }

    /** Unicode NFKC: full-width forms, ligatures and no-break spaces become their plain forms. */
    public static final class UnicodeNfkc extends Cleaner {
        public UnicodeNfkc() {
            super("unicode_nfkc");
        }

        @Override
        protected String clean(String text) {
            return Normalizer.isNormalized(text, Normalizer.Form.NFKC) ? text : Normalizer.normalize(text, Normalizer.Form.NFKC);
        }
    }

    /** See {@link CleaningSteps#removeControlChars}. */
    public static final class RemoveControlChars extends Cleaner {
        public RemoveControlChars() {
            super("remove_control_chars");
        }

        @Override
        protected String clean(String text) {
            return removeControlChars(text);
        }
    }

    /** See {@link CleaningSteps#normalizeWhitespace}. */
    public static final class NormalizeWhitespace extends Cleaner {
        public NormalizeWhitespace() {
            super("normalize_whitespace");
        }

        @Override
        protected String clean(String text) {
            return normalizeWhitespace(text);
        }
    }

    /** E-mail addresses, IP addresses and phone numbers become placeholders (see {@link PiiMasker}). */
    public static final class MaskPii extends Cleaner {
        public MaskPii() {
            super("mask_pii");
        }

        @Override
        protected String clean(String text) {
            return PiiMasker.mask(text);
        }
    }

    /** Drops a document whose text is blank after the cleaners; reported with them, under the clean stage. */
    public static final class EmptyAfterCleaning extends Filter {
        public EmptyAfterCleaning() {
            super(EMPTY_AFTER_CLEANING);
        }

        @Override
        public Family family() {
            return Family.CLEAN;
        }

        @Override
        protected Optional<String> failure(Document doc) {
            return doc.text().isBlank() ? Optional.of(doc.text().length() + " whitespace characters") : Optional.empty();
        }
    }

    /**
     * Drops C0/C1 controls except LF, CR and tab, format characters (zero-width spaces and joiners, BOM, bidi marks),
     * unpaired surrogates, noncharacters and U+FFFD (a decoding failure upstream, never content).
     */
    public static String removeControlChars(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean drop;
            int width = 1;
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(i + 1));
                    width = 2;
                    drop = Character.getType(cp) == Character.FORMAT || (cp & 0xFFFE) == 0xFFFE;
                } else {
                    drop = true;
                }
            } else if (Character.isLowSurrogate(c)) {
                drop = true;
            } else if (c == '\n' || c == '\t' || c == '\r') {
                drop = false;
            } else {
                int type = Character.getType(c);
                drop = type == Character.CONTROL || type == Character.FORMAT || c == '\uFFFD' || c == '\uFFFE' || c == '\uFFFF'
                        || (c >= '\uFDD0' && c <= '\uFDEF');
            }
            if (drop && out == null) {
                out = new StringBuilder(s.length());
                out.append(s, 0, i);
            }
            if (!drop && out != null) {
                out.append(s, i, i + width);
            }
            i += width - 1;
        }
        return out == null ? s : out.toString();
    }

    /**
     * CRLF and CR to LF; any run of horizontal whitespace (tabs, no-break and other Unicode spaces) to one space;
     * lines trimmed; runs of blank lines to a single blank line (a paragraph break); the document trimmed.
     */
    public static String normalizeWhitespace(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int newlines = 0;      // pending line breaks not yet written
        boolean space = false; // pending space not yet written
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    continue;
                }
                c = '\n';
            }
            if (c == '\n' || c == '\u2028' || c == '\u2029' || c == '\u000B' || c == '\u000C' || c == '\u0085') {
                newlines++;
                space = false;
            } else if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                space = true;
            } else {
                if (out.length() > 0) {
                    if (newlines > 0) {
                        out.append(newlines > 1 ? "\n\n" : "\n");
                    } else if (space) {
                        out.append(' ');
                    }
                }
                newlines = 0;
                space = false;
                out.append(c);
            }
        }
        return out.toString();
    }
}
