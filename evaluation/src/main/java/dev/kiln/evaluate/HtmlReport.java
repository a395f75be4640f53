package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code report.html}: report.json for a person, one self-contained file that opens from disk with no network. The
 * page is the template {@code report.html} (a resource next to this class) with the sections' HTML, the chart
 * specs as JSON, and Apache ECharts inlined from its WebJar. Sections render HTML on the Java side (every data
 * string through {@link Html#text}); charts are specs ({@code kind} line, bar or heatmap) that the template's
 * script turns into ECharts options.
 *
 * <p>The page is a list of {@link Section}s ({@link #SECTIONS}); a section renders only when its part of the report
 * model is present, so a new part of report.json (another metric family) is one more section in the list.
 */
public final class HtmlReport {
    public static final String FILE = "report.html";
    static final String TEMPLATE = "report.html";
    static final String ECHARTS_VERSION = "5.3.1";
    static final String ECHARTS_DIR = "META-INF/resources/webjars/echarts/" + ECHARTS_VERSION + "/";
    static final String ECHARTS = ECHARTS_DIR + "dist/echarts.min.js";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([a-z]+)}}");

    /** One part of the page. */
    public interface Section {
        /** The anchor of the section (letters, digits and '-'; never from data). */
        String id();

        String title();

        /** True when the report holds what this section shows. */
        boolean present(EvaluationReport report);

        void render(EvaluationReport report, Page page);
    }

    /** The page in order: language-model metrics, per source, training curves, classifier, generations, lineage. */
    public static final List<Section> SECTIONS = List.of(new ReportSections.SummarySection(),
            new ReportSections.LanguageModelSection(), new ReportSections.PerSourceSection(), new ReportSections.TrainingSection(),
            new ReportSections.ClassifierSection(), new ReportSections.GenerationSection(), new ReportSections.LineageSection());

    private HtmlReport() {
    }

    public static String render(EvaluationReport report) {
        return render(report, SECTIONS);
    }

    public static String render(EvaluationReport report, List<Section> sections) {
        Page page = new Page();
        StringBuilder nav = new StringBuilder();
        for (Section s : sections) {
            if (!s.present(report)) {
                continue;
            }
            nav.append("<a href=\"#").append(s.id()).append("\">").append(Html.text(s.title())).append("</a>");
            page.raw("<section id=\"").raw(s.id()).raw("\">\n<h2>").text(s.title()).raw("</h2>\n");
            s.render(report, page);
            page.closeCharts().raw("</section>\n");
        }
        String title = "kiln evaluate: " + report.runName();
        return fill(resource(HtmlReport.class, TEMPLATE), Map.of(
                "title", Html.text(title),
                "generator", Html.text("Kiln " + (report.versions() != null && report.versions().kiln() != null
                        ? report.versions().kiln() : "unknown")),
                "nav", nav.toString(),
                "body", page.html.toString(),
                "echarts", echarts(),
                "echartsversion", ECHARTS_VERSION,
                // Apache-2.0 section 4(d): a redistribution carries the NOTICE; the script keeps its licence header.
                "echartsnotice", Html.text(resource(HtmlReport.class.getClassLoader(), ECHARTS_DIR + "NOTICE").strip()),
                "charts", Html.scriptJson(page.charts)));
    }

    /**
     * Replaces every {@code {{name}}} of the template in one pass over the template, so text that a value brings
     * in (which may itself contain "{{...}}") is never substituted again. A placeholder without a value is an error.
     */
    static String fill(String template, Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder sb = new StringBuilder(template.length() + values.values().stream().mapToInt(String::length).sum());
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                throw new IllegalStateException("the report template has {{" + m.group(1) + "}}, which has no value");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** echarts.min.js from the WebJar on the classpath, checked to be safe inside a script element. */
    static String echarts() {
        String js = resource(HtmlReport.class.getClassLoader(), ECHARTS);
        if (js.toLowerCase(Locale.ROOT).contains("</script")) {
            throw new IllegalStateException(ECHARTS + " contains \"</script\" and cannot be inlined as it is");
        }
        return js;
    }

    static String resource(Class<?> near, String name) {
        try (InputStream in = near.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("no resource " + name + " next to " + near.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String resource(ClassLoader loader, String name) {
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("no " + name + " on the classpath; expected the WebJar org.webjars.npm:echarts:"
                        + ECHARTS_VERSION + " (a dependency of kiln-evaluation)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What sections write into: HTML (data only through the escaping methods) and chart specs. */
    public static final class Page {
        final StringBuilder html = new StringBuilder();
        final ArrayNode charts = JSON.createArrayNode();
        private boolean inCharts;

        /** Markup written by the section itself, never data. */
        Page raw(String markup) {
            html.append(markup);
            return this;
        }

        /** Data as text. */
        public Page text(String s) {
            html.append(Html.text(s));
            return this;
        }

        public Page heading(String s) {
            return closeCharts().raw("<h3>").text(s).raw("</h3>\n");
        }

        public Page paragraph(String s) {
            return closeCharts().raw("<p>").text(s).raw("</p>\n");
        }

        public Page paragraph(String cssClass, String s) {
            return closeCharts().raw("<p class=\"").raw(cssClass).raw("\">").text(s).raw("</p>\n");
        }

        public Page pre(String s) {
            return closeCharts().raw("<pre>").text(s).raw("</pre>\n");
        }

        /**
         * A table. Cells are text; a cell that is a {@link Number} is formatted and right-aligned, one wrapped in
         * {@link #hash} is set in a monospace font, one wrapped in {@link #longText} keeps its line breaks.
         */
        public Page table(List<String> header, List<List<Object>> rows) {
            closeCharts().raw("<table>\n<tr>");
            for (String h : header) {
                raw("<th>").text(h).raw("</th>");
            }
            raw("</tr>\n");
            for (List<Object> row : rows) {
                raw("<tr>");
                for (Object cell : row) {
                    if (cell instanceof Number n) {
                        raw("<td class=\"num\">").text(number(n)).raw("</td>");
                    } else if (cell instanceof Hash h) {
                        raw("<td class=\"hash\">").text(h.value).raw("</td>");
                    } else if (cell instanceof Formatted f) {
                        raw("<td class=\"num\">").text(f.text()).raw("</td>");
                    } else if (cell instanceof LongText t) {
                        raw("<td class=\"text\">").text(t.value).raw("</td>");
                    } else {
                        raw("<td>").text(cell == null ? "" : cell.toString()).raw("</td>");
                    }
                }
                raw("</tr>\n");
            }
            return raw("</table>\n");
        }

        /** A chart of {@code kind} (line, bar, heatmap); the caller fills the returned spec (see the template). */
        public ObjectNode chart(String kind, String title, boolean wide) {
            if (!inCharts) {
                raw("<div class=\"charts\">\n");
                inCharts = true;
            }
            String id = "chart-" + (charts.size() + 1);
            raw("<div class=\"chart" + (wide ? " wide" : "") + "\" id=\"" + id + "\"></div>\n");
            ObjectNode spec = charts.addObject();
            spec.put("id", id);
            spec.put("kind", kind);
            spec.put("title", title);
            return spec;
        }

        Page closeCharts() {
            if (inCharts) {
                inCharts = false;
                html.append("</div>\n");
            }
            return this;
        }

        static String number(Number n) {
            if (n instanceof Long || n instanceof Integer) {
                return String.format(Locale.ROOT, "%,d", n.longValue());
            }
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return Double.toString(d);
            }
            if (d != 0 && (Math.abs(d) >= 1e6 || Math.abs(d) < 1e-3)) {
                return String.format(Locale.ROOT, "%.3e", d);
            }
            return String.format(Locale.ROOT, "%.4f", d);
        }
    }

    /** A table cell holding a hash or identifier (monospace, breakable). */
    public record Hash(String value) {
    }

    /** A number already formatted (a metric, by its {@link LmMetric#format}), right-aligned like other numbers. */
    public record Formatted(String text) {
    }

    /** A table cell holding long text (prompts, generations) whose line breaks are kept. */
    public record LongText(String value) {
    }

    static List<Object> row(Object... cells) {
        List<Object> r = new ArrayList<>();
        Collections.addAll(r, cells);
        return r;
    }
}
