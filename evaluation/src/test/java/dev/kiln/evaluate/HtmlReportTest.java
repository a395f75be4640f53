package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** report.html's structure and escaping, without a browser (ReportBrowserTest opens it in one). */
class HtmlReportTest {
    static final String ATTACK = HtmlTest.ATTACK;

    @TempDir
    Path tmp;

    @Test
    void everySectionAndChartIsThereAndNoDataStringIsMarkup() throws IOException {
        EvaluationReport report = ReportFixtures.report(tmp, ATTACK);
        String html = HtmlReport.render(report);
        for (String id : List.of("summary", "language-model", "per-source", "training", "classifier", "generation", "lineage")) {
            assertTrue(html.contains("<section id=\"" + id + "\">"), id);
            assertTrue(html.contains("<a href=\"#" + id + "\">"), id);
        }
        // The template's own four script elements and nothing else: no data string opened one.
        assertEquals(4, count(html.toLowerCase(Locale.ROOT), "<script"));
        assertFalse(html.contains("<script>alert(1)"), "the planted string is markup somewhere");
        assertTrue(count(html, Html.text(ATTACK)) >= 6, "the planted string is shown as text where data is shown");

        JsonNode charts = charts(html);
        List<String> kinds = new ArrayList<>();
        charts.forEach(c -> kinds.add(c.path("kind").asText()));
        // 2 bars (bits/byte, loss), per-source bits/byte, 5 training curves, confusion matrix, ROC, PR.
        assertEquals(List.of("bar", "bar", "bar", "line", "line", "line", "line", "line", "heatmap", "line", "line"), kinds);
        for (JsonNode c : charts) {
            String id = c.path("id").asText();
            assertTrue(html.contains("<div class=\"chart\" id=\"" + id + "\"></div>")
                    || html.contains("<div class=\"chart wide\" id=\"" + id + "\"></div>"), id);
        }
        // Per source: groups on the x axis, one series per scorer, the baselines' series lighter; sums are the totals'.
        JsonNode perSource = charts.get(2);
        assertEquals("[\"sotu/17\",\"sotu/18" + ATTACK.replace("\"", "\\\"") + "\"]", perSource.path("categories").toString());
        assertEquals(6, perSource.path("series").size());
        assertEquals("[false, false, false, true, true, true]", perSource.path("series").findValuesAsText("baseline").toString());
        assertEquals(3.044 * 0.9, perSource.path("series").get(1).path("values").get(0).asDouble(), 1e-9);
        List<EvaluationReport.GroupScores> groups = report.perSource().sets().get(0).groups();
        assertEquals(2, groups.size());
        assertEquals(report.results().get(0).tokens(), groups.get(0).tokens() + groups.get(1).tokens());
        assertTrue(html.contains("<td class=\"hash\">" + Html.text("sotu/18" + ATTACK) + "</td>"), "the group is escaped text in the table");
        assertTrue(Report.markdown(report).contains("## Per source: "), "report.md has the per-source table");
        JsonNode bits = charts.get(0);
        assertEquals(6, bits.path("categories").size(), "three checkpoints side by side with three baselines");
        assertEquals("[false,false,false,true,true,true]", bits.path("baseline").toString());
        assertEquals(3.044, bits.path("series").get(0).path("values").get(1).asDouble(), 1e-9);
        assertTrue(bits.path("categories").get(2).asText().contains(ATTACK), "chart data keeps the text as it is");
        JsonNode loss = charts.get(3);
        assertEquals(4, loss.path("series").size(), "train and validation for each of the two runs");
        assertEquals(30, loss.path("series").get(0).path("points").size());
        assertEquals("pretrain: train", loss.path("series").get(0).path("name").asText(), "legends name runs by folder");
        assertEquals("[{\"x\":30,\"name\":\"step-00000030\"},{\"x\":60,\"name\":\"step-00000060\"}]",
                loss.path("series").get(0).path("marks").toString());
        assertEquals("[[0,0,410.0],[1,0,9.0],[0,1,14.0],[1,1,167.0]]", charts.get(8).path("cells").toString());
    }

    @Test
    void sectionsWithoutTheirPartOfTheReportAreLeftOut() throws IOException {
        ObjectNode tree = ReportFixtures.JSON.valueToTree(ReportFixtures.report(tmp, "x"));
        tree.remove(List.of("classifier", "generation", "training", "per_source"));
        String html = HtmlReport.render(Report.read(tree, "a report without those parts"));
        assertFalse(html.contains("id=\"per-source\""));
        assertFalse(html.contains("id=\"classifier\""));
        assertFalse(html.contains("id=\"generation\""));
        assertFalse(html.contains("id=\"training\""));
        assertEquals(2, charts(html).size());
    }

    @Test
    void theSectionListIsTheExtensionPoint() throws IOException {
        HtmlReport.Section extra = new HtmlReport.Section() {
            public String id() {
                return "extra";
            }

            public String title() {
                return "Extra <part>";
            }

            public boolean present(EvaluationReport r) {
                return r.runName().equals("fixture");
            }

            public void render(EvaluationReport r, HtmlReport.Page p) {
                p.paragraph(r.inputs().checkpoints().get(2).name());
                p.chart("line", "extra", true).putArray("series");
            }
        };
        EvaluationReport report = ReportFixtures.report(tmp, ATTACK);
        List<HtmlReport.Section> sections = new ArrayList<>(HtmlReport.SECTIONS);
        sections.add(extra);
        String html = HtmlReport.render(report, sections);
        assertTrue(html.contains("<a href=\"#extra\">Extra &lt;part&gt;</a>"));
        assertTrue(html.contains("<p>" + Html.text("old" + ATTACK + "/step-00000040") + "</p>"));
        assertTrue(html.contains("<div class=\"chart wide\" id=\"chart-12\"></div>"));
    }

    @Test
    void templateIsFilledInOnePassSoValuesAreNeverSubstitutedAgain() {
        assertEquals("<p>{{b}}</p><i>B</i>", HtmlReport.fill("<p>{{a}}</p><i>{{b}}</i>", Map.of("a", "{{b}}", "b", "B")));
        assertEquals("$1 \\ x", HtmlReport.fill("{{a}}", Map.of("a", "$1 \\ x")));
        assertThrows(IllegalStateException.class, () -> HtmlReport.fill("{{missing}}", Map.of()));
    }

    @Test
    void numbersAreFormattedForTables() {
        assertEquals("1,234,567", HtmlReport.Page.number(1234567L));
        assertEquals("3.2012", HtmlReport.Page.number(3.20117));
        assertEquals("1.235e+07", HtmlReport.Page.number(12345678.9));
        assertEquals("3.000e-04", HtmlReport.Page.number(3e-4));
        assertEquals("NaN", HtmlReport.Page.number(Double.NaN));
    }

    @Test
    void echartsComesFromTheWebJarAndIsSafeToInline() {
        String js = HtmlReport.echarts();
        assertTrue(js.length() > 500_000, "the full build, with heatmap and visualMap");
        assertTrue(js.contains("Apache License"), "its licence header is kept");
    }

    static JsonNode charts(String html) throws IOException {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"kiln-charts\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        assertTrue(m.find(), "the chart data element");
        return ReportFixtures.JSON.readTree(m.group(1));
    }

    static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }
}
