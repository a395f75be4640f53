package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * report.html opened from {@code file://} in headless Chromium (Debian's {@code chromium} package, which
 * bin/ensure-chromium installs when this test finds it missing; the test fails without it): the page's own script writes a verdict into a hidden element (charts whose
 * canvas has non-blank pixels, script errors and console.error calls, alert calls, the visible text), which
 * {@code --dump-dom} returns. A planted {@code </script><script>alert(1)</script>} in paths, names, labels and
 * prompts must stay visible text. A screenshot is left at {@code target/report-browser/report.png}.
 */
class ReportBrowserTest {
    static final String ATTACK = HtmlTest.ATTACK;
    static final Path OUT = Path.of("target", "report-browser").toAbsolutePath();

    @TempDir
    Path tmp;

    @Test
    void reportOpensFromDiskDrawsEveryChartAndKeepsInjectedTextAsText() throws Exception {
        String html = HtmlReport.render(ReportFixtures.report(tmp, ATTACK));
        Files.createDirectories(OUT);
        Path page = OUT.resolve(HtmlReport.FILE);
        Files.writeString(page, html);
        String url = page.toUri().toString();

        Run dom = chromium(List.of("--virtual-time-budget=15000", "--dump-dom", url));
        assertEquals(0, dom.exit, "chromium --dump-dom exited with " + dom.exit + "; stderr:\n" + dom.stderr);
        Matcher m = Pattern.compile("<div id=\"kiln-verdict\" hidden=\"\">(.*?)</div>", Pattern.DOTALL).matcher(dom.stdout);
        assertTrue(m.find(), "no verdict in the DOM (the page's script did not finish); stderr:\n" + dom.stderr);
        JsonNode verdict = ReportFixtures.JSON.readTree(unescape(m.group(1)));

        assertEquals("[]", verdict.path("errors").toString(), "script errors or console.error calls");
        assertEquals("[]", verdict.path("alerts").toString(), "an injected script ran");
        assertEquals(11, verdict.path("charts").size(), verdict.toString());
        assertEquals(verdict.path("charts"), verdict.path("painted"), "charts whose canvas stayed blank");
        // The per-source bar chart comes right after the two language-model charts: it is drawn too.
        assertTrue(html.contains("<section id=\"per-source\">") && html.contains("<div class=\"chart wide\" id=\"chart-3\">"), "per-source chart");
        assertTrue(verdict.path("painted").toString().contains("\"chart-3\""), verdict.toString());
        String text = verdict.path("text").asText();
        assertTrue(text.contains("sotu/18" + ATTACK), "the planted source group is visible text");
        assertTrue(text.contains("spam" + ATTACK), "the planted label is visible text");
        assertTrue(text.contains("generated " + ATTACK), "the planted generation is visible text");
        assertTrue(text.contains("old" + ATTACK + "/step-00000040"), "the planted checkpoint name is visible text");
        assertFalse(dom.stdout.contains("<script>alert(1)"), "the planted string became an element");
        // With --enable-logging=stderr every console message of the page is a ":CONSOLE" line; the report logs none.
        for (String line : dom.stderr.split("\n")) {
            assertFalse(line.contains(":CONSOLE"), "console message: " + line);
        }

        Path png = OUT.resolve("report.png");
        Files.deleteIfExists(png);
        Run shot = chromium(List.of("--virtual-time-budget=15000", "--hide-scrollbars", "--window-size=1320,7200",
                "--screenshot=" + png, url));
        assertEquals(0, shot.exit, "chromium --screenshot exited with " + shot.exit + "; stderr:\n" + shot.stderr);
        assertTrue(Files.size(png) > 50_000, "a screenshot with content at " + png);
    }

    record Run(int exit, String stdout, String stderr) {
    }

    /** Runs headless Chromium with a fresh profile, nothing in the background and no network. */
    Run chromium(List<String> args) throws IOException, InterruptedException {
        String named = System.getenv("KILN_CHROMIUM");
        Path binary = Path.of(named != null ? named : "/usr/bin/chromium");
        if (named == null && !Files.isExecutable(binary)) {
            // The project installs the browser it tests with (Debian's package), never a downloaded one.
            Path script = Path.of("..", "bin", "ensure-chromium").toAbsolutePath().normalize();
            Process install = new ProcessBuilder(script.toString()).inheritIO().start();
            if (!install.waitFor(15, TimeUnit.MINUTES) || install.exitValue() != 0) {
                fail(script + " could not install Debian's chromium (exit " + (install.isAlive() ? "timeout" : install.exitValue())
                        + "); the report test needs it, or KILN_CHROMIUM naming another binary");
            }
        }
        if (!Files.isExecutable(binary)) {
            fail("no Chromium at " + binary + ": the report test needs Debian's chromium package "
                    + "(bin/ensure-chromium installs it), or KILN_CHROMIUM naming another binary");
        }
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--enable-logging=stderr", "--user-data-dir=" + profile));
        cmd.addAll(args);
        Path out = tmp.resolve("chromium.out");
        Path err = tmp.resolve("chromium.err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium did not finish in 120 s: " + String.join(" ", cmd));
        }
        Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        try (Stream<Path> s = Files.walk(profile)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        return r;
    }

    /** The character references Chromium's DOM serialisation writes in text. */
    static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&nbsp;", "\u00a0").replace("&amp;", "&");
    }
}
