package dev.kiln.preprocess.clean;

import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeTraversor;
import org.jsoup.select.NodeVisitor;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * HTML to readable text with jsoup's parser (tolerant of the broken markup spam is made of): scripts, styles and
 * comments dropped, entities decoded, block elements and {@code <br>} turned into line breaks so paragraphs survive.
 */
public final class HtmlText {
    private static final Set<String> BLOCKS = Set.of("p", "div", "br", "li", "tr", "table", "ul", "ol", "dl", "dt", "dd",
            "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "section", "article", "header", "footer",
            "center", "form", "title", "address");
    private static final Set<String> PARAGRAPHS = Set.of("p", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
            "ul", "ol", "hr", "pre", "section", "article");
    // A cheap pre-check that decides whether a document is worth parsing as HTML; the parsing itself is jsoup's.
    private static final Pattern LOOKS_LIKE_HTML = Pattern.compile(
            "(?i)<(html|body|head|p|div|br|table|tr|td|font|span|a\\s|img\\s|b|i|center|!doctype)[\\s>/]");

    private HtmlText() {
    }

    public static boolean looksLikeHtml(String text) {
        return text.indexOf('<') >= 0 && LOOKS_LIKE_HTML.matcher(text).find();
    }

    public static String toText(String html) {
        Document doc = Jsoup.parse(html);
        doc.select("script, style, noscript, head, template, svg").remove();
        // jsoup keeps <noframes> content as raw text; it is the page for browsers without frames, so parse it.
        for (Element nf : doc.select("noframes, noembed")) {
            nf.after(Jsoup.parseBodyFragment(nf.data().isEmpty() ? nf.wholeText() : nf.data()).body().html());
            nf.remove();
        }
        StringBuilder out = new StringBuilder(html.length() / 2);
        NodeTraversor.traverse(new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode t) {
                    String s = t.getWholeText();
                    if (insidePre(t)) {
                        out.append(s);
                    } else {
                        appendCollapsed(out, s);
                    }
                } else if (node instanceof Element e && BLOCKS.contains(e.normalName())) {
                    lineBreak(out, PARAGRAPHS.contains(e.normalName()));
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e && BLOCKS.contains(e.normalName()) && !e.normalName().equals("br")) {
                    lineBreak(out, PARAGRAPHS.contains(e.normalName()));
                } else if (node instanceof Element e && (e.normalName().equals("td") || e.normalName().equals("th"))) {
                    out.append(' ');
                }
            }
        }, doc.body() != null ? doc.body() : doc);
        return out.toString().strip();
    }

    private static boolean insidePre(TextNode t) {
        for (Node p = t.parentNode(); p != null; p = p.parentNode()) {
            if (p instanceof Element e && e.normalName().equals("pre")) {
                return true;
            }
        }
        return false;
    }

    private static void appendCollapsed(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c) || c == '\u00A0') {
                int n = out.length();
                if (n > 0 && out.charAt(n - 1) != ' ' && out.charAt(n - 1) != '\n') {
                    out.append(' ');
                }
            } else {
                out.append(c);
            }
        }
    }

    private static void lineBreak(StringBuilder out, boolean paragraph) {
        // Trailing spaces before a break are noise.
        int n = out.length();
        while (n > 0 && out.charAt(n - 1) == ' ') {
            n--;
        }
        out.setLength(n);
        if (n == 0) {
            return;
        }
        int breaks = 0;
        for (int i = n - 1; i >= 0 && out.charAt(i) == '\n'; i--) {
            breaks++;
        }
        int want = paragraph ? 2 : 1;
        for (int i = breaks; i < want; i++) {
            out.append('\n');
        }
    }
}
