package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.evaluate.HtmlReport.Formatted;
import dev.kiln.evaluate.HtmlReport.Hash;
import dev.kiln.evaluate.HtmlReport.LongText;
import dev.kiln.evaluate.HtmlReport.Page;
import dev.kiln.evaluate.HtmlReport.Section;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static dev.kiln.evaluate.HtmlReport.row;

/**
 * The sections of report.html, each reading its part of the report: the language-model parts through the typed
 * {@link EvaluationReport} and the {@link LmMetric} table, the training, classifier and generation parts field by
 * field (as the README documents them).
 */
final class ReportSections {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Generation samples shown in the page (report.json keeps them all). */
    static final int MAX_SAMPLES = 50;

    private ReportSections() {
    }

    /** Run, flags and notes. */
    static final class SummarySection implements Section {
        public String id() {
            return "summary";
        }

        public String title() {
            return "Summary";
        }

        public boolean present(EvaluationReport r) {
            return true;
        }

        public void render(EvaluationReport r, Page p) {
            p.paragraph(String.format(Locale.ROOT, "Run %s, started %s, finished %s (%.1f s). Every number is also in report.json.",
                    r.runName(), r.started(), r.finished(), r.durationSeconds()));
            if (r.flags().isEmpty()) {
                p.paragraph(Report.hasBigram(r) ? "Every checkpoint beats the bigram baseline." : "No bigram baseline in this run.");
            }
            r.flags().forEach(f -> p.paragraph("flag", "FLAG: " + f));
            r.notes().forEach(n -> p.paragraph("note", "Note: " + n + "."));
        }
    }

    /** Every checkpoint next to the baselines, per shard folder: a chart per {@link LmMetric.Place#CHART} metric, tables. */
    static final class LanguageModelSection implements Section {
        public String id() {
            return "language-model";
        }

        public String title() {
            return "Language-model metrics";
        }

        public boolean present(EvaluationReport r) {
            return !r.results().isEmpty();
        }

        public void render(EvaluationReport r, Page p) {
            List<EvaluationReport.ShardSetScores> results = r.results();
            for (LmMetric m : LmMetric.shownIn(LmMetric.Place.CHART)) {
                ObjectNode spec = p.chart("bar", m.heading() + ": checkpoints and baselines", false);
                spec.put("yName", m.heading());
                ArrayNode categories = spec.putArray("categories");
                ArrayNode baseline = spec.putArray("baseline");
                for (EvaluationReport.ScorerScores s : results.get(0).scorers()) {
                    categories.add(s.name());
                    baseline.add(s.baseline());
                }
                ArrayNode series = spec.putArray("series");
                for (EvaluationReport.ShardSetScores set : results) {
                    ObjectNode one = series.addObject();
                    one.put("name", set.shards() + " (" + set.split() + ")");
                    ArrayNode values = one.putArray("values");
                    set.scorers().forEach(s -> values.add(s.value(m)));
                }
            }
            for (EvaluationReport.ShardSetScores set : results) {
                p.heading(set.shards() + " (split " + set.split() + ")");
                p.paragraph(String.format(Locale.ROOT, "%,d documents, %,d tokens, %,d bytes, %,d words.", set.documents(),
                        set.tokens(), set.bytes(), set.words()));
                List<String> header = new ArrayList<>(List.of("metric"));
                set.scorers().forEach(s -> header.add(s.name() + (s.baseline() ? " (baseline)" : "")));
                List<List<Object>> rows = new ArrayList<>();
                for (LmMetric m : LmMetric.shownIn(LmMetric.Place.TABLE)) {
                    List<Object> row = row(m.heading());
                    set.scorers().forEach(s -> row.add(new Formatted(m.format(s.value(m)))));
                    rows.add(row);
                }
                List<Object> beats = row("beats bigram");
                set.scorers().forEach(s -> beats.add(s.beatsBigram() == null ? "" : s.beatsBigram() ? "yes" : "NO"));
                rows.add(beats);
                p.table(header, rows);
            }
            if (r.baselines() != null && r.baselines().trainTokens() != null) {
                p.heading("Baselines");
                p.table(List.of("field", "value"), scalars(JSON.valueToTree(r.baselines())));
            }
            if (r.scoring() != null) {
                p.heading("Scoring");
                p.table(List.of("field", "value"), scalars(JSON.valueToTree(r.scoring())));
            }
        }
    }

    /** Every checkpoint next to the baselines per source group of each shard folder: a chart and a table per metric shown. */
    static final class PerSourceSection implements Section {
        public String id() {
            return "per-source";
        }

        public String title() {
            return "Per source";
        }

        public boolean present(EvaluationReport r) {
            return r.perSource() != null && !r.perSource().sets().isEmpty();
        }

        public void render(EvaluationReport r, Page p) {
            EvaluationReport.PerSourceScores ps = r.perSource();
            String pattern = ps.pattern() == null ? "" : ps.pattern();
            p.paragraph("Documents grouped by " + ps.groupBy() + (pattern.isEmpty() ? "" : " (pattern " + pattern + ")")
                    + "; at most " + ps.maxGroups() + " groups per shard folder, the largest by tokens, the rest summed into "
                    + SourceGroups.OTHER + ". Documents of format 1 shards (no sources) are grouped under their shard folder.");
            List<LmMetric> shown = LmMetric.shownIn(LmMetric.Place.PER_SOURCE_TABLE);
            for (EvaluationReport.SourceSetScores set : ps.sets()) {
                List<EvaluationReport.GroupScores> groups = set.groups();
                List<EvaluationReport.ScorerScores> scorers = groups.isEmpty() ? List.of() : groups.get(0).scorers();
                for (LmMetric m : shown) {
                    chart(p, m, set, scorers);
                }
                p.heading(set.shards() + " (split " + set.split() + "): " + set.groupsFound() + " group(s)"
                        + (set.groupsInOther() > 0 ? ", " + set.groupsInOther() + " summed into " + SourceGroups.OTHER : ""));
                List<String> header = new ArrayList<>(List.of("group", "documents", "tokens", "bytes", "words"));
                for (LmMetric m : shown) {
                    scorers.forEach(sc -> header.add(sc.name() + (sc.baseline() ? " (baseline)" : "") + " " + m.heading()));
                }
                List<List<Object>> rows = new ArrayList<>();
                for (EvaluationReport.GroupScores g : groups) {
                    List<Object> row = row(new Hash(g.group()), g.documents(), g.tokens(), g.bytes(), g.words());
                    shown.forEach(m -> g.scorers().forEach(sc -> row.add(new Formatted(m.format(sc.value(m))))));
                    rows.add(row);
                }
                p.table(header, rows);
            }
        }

        static void chart(Page p, LmMetric m, EvaluationReport.SourceSetScores set, List<EvaluationReport.ScorerScores> scorers) {
            List<EvaluationReport.GroupScores> groups = set.groups();
            ObjectNode spec = p.chart("bar", m.heading() + " per source: " + set.shards() + " (" + set.split() + ")", true);
            spec.put("yName", m.heading());
            spec.put("labels", groups.size() * scorers.size() <= 40);
            ArrayNode categories = spec.putArray("categories");
            ArrayNode baseline = spec.putArray("baseline");
            groups.forEach(g -> {
                categories.add(g.group());
                baseline.add(false);
            });
            ArrayNode series = spec.putArray("series");
            for (int i = 0; i < scorers.size(); i++) {
                ObjectNode one = series.addObject();
                one.put("name", scorers.get(i).name());
                one.put("baseline", scorers.get(i).baseline());
                ArrayNode values = one.putArray("values");
                for (EvaluationReport.GroupScores g : groups) {
                    values.add(g.scorers().get(i).value(m));
                }
            }
        }
    }

    /** Curves from the metrics.jsonl of every run an evaluated checkpoint comes from. */
    static final class TrainingSection implements Section {
        public String id() {
            return "training";
        }

        public String title() {
            return "Training curves";
        }

        public boolean present(EvaluationReport r) {
            return r.training() != null && !r.training().path("runs").isEmpty();
        }

        public void render(EvaluationReport r, Page p) {
            JsonNode runs = r.training().path("runs");
            boolean several = runs.size() > 1;
            lossChart(p, runs, several, "step", "loss against step", true);
            lossChart(p, runs, several, "tokens", "loss against tokens seen", false);
            trainChart(p, runs, several, "lr", "learning rate", "learning rate");
            trainChart(p, runs, several, "tokens_per_s", "training throughput", "tokens/s");
            trainChart(p, runs, several, "averaging_share", "share of wall time in parameter averaging", "averaging share");
            List<List<Object>> rows = new ArrayList<>();
            for (JsonNode run : runs) {
                JsonNode t = run.path("train");
                JsonNode v = run.path("validation");
                rows.add(row(run.path("run").asText(), String.join(", ", texts(run.path("checkpoints"))),
                        run.has("error") ? "" : (Object) (long) t.path("step").size(), last(t.path("step")), last(t.path("tokens")),
                        last(t.path("loss")), last(v.path("loss")), last(t.path("tokens_per_s")),
                        run.has("error") ? run.path("error").asText() : run.path("metrics_file").asText()));
            }
            p.table(List.of("run", "evaluated checkpoints", "train records", "last step", "tokens", "last train loss",
                    "last validation loss", "last tokens/s", "metrics.jsonl"), rows);
        }

        static Object last(JsonNode column) {
            for (int i = column.size() - 1; i >= 0; i--) {
                JsonNode v = column.get(i);
                if (v.isNumber()) {
                    return v.isIntegralNumber() ? (Object) v.asLong() : (Object) v.asDouble();
                }
            }
            return "";
        }

        static void lossChart(Page p, JsonNode runs, boolean several, String x, String title, boolean marks) {
            ObjectNode spec = p.chart("line", title, false);
            spec.put("xName", x);
            spec.put("yName", "loss (nats/token)");
            ArrayNode series = spec.putArray("series");
            for (JsonNode run : runs) {
                String prefix = several ? shortName(run) + ": " : "";
                ObjectNode train = series.addObject();
                train.put("name", prefix + "train");
                train.set("points", points(run.path("train").path(x), run.path("train").path("loss")));
                ArrayNode validation = points(run.path("validation").path(x), run.path("validation").path("loss"));
                if (!validation.isEmpty()) { // a run with validation.every = 0 has none
                    ObjectNode val = series.addObject();
                    val.put("name", prefix + "validation");
                    val.put("dashed", true);
                    val.set("points", validation);
                }
                if (marks) {
                    ArrayNode m = train.putArray("marks");
                    JsonNode names = run.path("checkpoints");
                    for (int i = 0; i < run.path("evaluated_steps").size(); i++) {
                        ObjectNode mark = m.addObject();
                        mark.put("x", run.path("evaluated_steps").get(i).asLong());
                        String name = names.path(i).asText();
                        mark.put("name", name.substring(name.lastIndexOf('/') + 1));
                    }
                }
            }
        }

        static void trainChart(Page p, JsonNode runs, boolean several, String field, String title, String yName) {
            ObjectNode spec = p.chart("line", title, false);
            spec.put("xName", "step");
            spec.put("yName", yName);
            ArrayNode series = spec.putArray("series");
            for (JsonNode run : runs) {
                ObjectNode s = series.addObject();
                s.put("name", several ? shortName(run) : yName);
                s.set("points", points(run.path("train").path("step"), run.path("train").path(field)));
            }
        }

        /** A run's folder name, for legends (the table below the charts has the full path). */
        static String shortName(JsonNode run) {
            String path = run.path("run").asText();
            return path.substring(path.lastIndexOf('/') + 1);
        }

        /** [[x, y], ...] from two columns, skipping rows where either is missing. */
        static ArrayNode points(JsonNode xs, JsonNode ys) {
            ArrayNode out = JSON.createArrayNode();
            for (int i = 0; i < Math.min(xs.size(), ys.size()); i++) {
                if (xs.get(i).isNumber() && ys.get(i).isNumber()) {
                    out.addArray().add(xs.get(i)).add(ys.get(i));
                }
            }
            return out;
        }
    }

    /**
     * {@code classifier}: one object, or an array of them (one per checkpoint or task), each read as: {@code name},
     * {@code labels} and {@code confusion_matrix} (rows = true label, columns = predicted) for a heat map,
     * {@code roc} ({@code fpr}, {@code tpr}, optional {@code auc}) and {@code pr} ({@code recall}, {@code precision},
     * optional {@code average_precision}) for curves, {@code models} and {@code per_class} (arrays of objects) for
     * tables, and every
     * other number, string or boolean field, and those of {@code metrics}, in a table.
     */
    static final class ClassifierSection implements Section {
        public String id() {
            return "classifier";
        }

        public String title() {
            return "Classifier";
        }

        public boolean present(EvaluationReport r) {
            return r.classifier() != null && !r.classifier().isNull();
        }

        public void render(EvaluationReport r, Page p) {
            for (JsonNode c : items(r.classifier())) {
                if (c.has("name")) {
                    p.heading(c.path("name").asText());
                }
                List<List<Object>> metrics = scalars(c);
                metrics.addAll(scalars(c.path("metrics")));
                if (!metrics.isEmpty()) {
                    p.table(List.of("metric", "value"), metrics);
                }
                if (c.has("models")) { // a comparison of several models: one row each
                    objectTable(p, c.path("models"), Integer.MAX_VALUE);
                }
                if (c.has("per_class")) {
                    objectTable(p, c.path("per_class"), Integer.MAX_VALUE);
                }
                String prefix = c.has("name") ? c.path("name").asText() + ": " : "";
                JsonNode cm = c.path("confusion_matrix");
                if (cm.isArray() && !cm.isEmpty()) {
                    ObjectNode spec = p.chart("heatmap", prefix + "confusion matrix", false);
                    spec.put("xName", "predicted");
                    spec.put("yName", "true");
                    List<String> labels = texts(c.path("labels"));
                    ArrayNode xl = spec.putArray("xLabels");
                    ArrayNode yl = spec.putArray("yLabels");
                    for (int i = 0; i < cm.size(); i++) {
                        String label = i < labels.size() ? labels.get(i) : Integer.toString(i);
                        xl.add(label);
                        yl.add(label);
                    }
                    ArrayNode cells = spec.putArray("cells");
                    for (int t = 0; t < cm.size(); t++) {
                        for (int pr = 0; pr < cm.get(t).size(); pr++) {
                            cells.addArray().add(pr).add(t).add(cm.get(t).get(pr).asDouble());
                        }
                    }
                }
                curve(p, c.path("roc"), prefix + "ROC", "fpr", "tpr", "false positive rate", "true positive rate", "auc");
                curve(p, c.path("pr"), prefix + "precision-recall", "recall", "precision", "recall", "precision", "average_precision");
            }
        }

        /** One curve, or one per element of an array (each may carry a {@code label}). */
        static void curve(Page p, JsonNode curves, String title, String x, String y, String xName, String yName, String area) {
            if (curves.isMissingNode() || curves.isNull()) {
                return;
            }
            ObjectNode spec = p.chart("line", title, false);
            spec.put("xName", xName);
            spec.put("yName", yName);
            ArrayNode series = spec.putArray("series");
            for (JsonNode c : items(curves)) {
                ObjectNode s = series.addObject();
                String name = c.has("label") ? c.path("label").asText() : yName;
                s.put("name", c.has(area) ? String.format(Locale.ROOT, "%s (%s %.4f)", name, area, c.path(area).asDouble()) : name);
                s.set("points", TrainingSection.points(c.path(x), c.path(y)));
            }
        }
    }

    /**
     * {@code generation}: one object, or an array of them, each read as: {@code name}, every number, string or
     * boolean field and those of {@code metrics} in a table, and {@code samples} (an array of objects: prompt,
     * text, reference, ...) as a table of their fields (the first {@link #MAX_SAMPLES}).
     */
    static final class GenerationSection implements Section {
        public String id() {
            return "generation";
        }

        public String title() {
            return "Generations";
        }

        public boolean present(EvaluationReport r) {
            return r.generation() != null && !r.generation().isNull();
        }

        public void render(EvaluationReport r, Page p) {
            for (JsonNode g : items(r.generation())) {
                if (g.has("name")) {
                    p.heading(g.path("name").asText());
                }
                List<List<Object>> metrics = scalars(g);
                metrics.addAll(scalars(g.path("metrics")));
                if (!metrics.isEmpty()) {
                    p.table(List.of("metric", "value"), metrics);
                }
                if (g.path("samples").size() > MAX_SAMPLES) {
                    p.paragraph("note", "The first " + MAX_SAMPLES + " of " + g.path("samples").size() + " samples; report.json has all.");
                }
                objectTable(p, g.path("samples"), MAX_SAMPLES);
            }
        }
    }

    /** Where every number came from: versions, times, Spark, inputs with sizes and hashes, configuration. */
    static final class LineageSection implements Section {
        public String id() {
            return "lineage";
        }

        public String title() {
            return "Lineage";
        }

        public boolean present(EvaluationReport r) {
            return true;
        }

        public void render(EvaluationReport r, Page p) {
            EvaluationReport.Versions v = r.versions();
            p.table(List.of("field", "value"), List.of(
                    row("run name", r.runName()), row("started", r.started()), row("finished", r.finished()),
                    row("duration (s)", r.durationSeconds()), row("Kiln", v.kiln()), row("Spark", v.spark()),
                    row("DL4J", v.dl4j()), row("Java", v.java()),
                    row("built with", builtWith(r.lineage() == null ? JSON.createObjectNode() : r.lineage().path("build")))));
            if (r.spark() != null) {
                p.heading("Spark");
                List<List<Object>> rows = scalars(JSON.valueToTree(r.spark()));
                rows.add(row("executors", String.join(", ", r.spark().executors() == null ? List.of() : r.spark().executors())));
                p.table(List.of("field", "value"), rows);
            }
            p.heading("Checkpoints");
            List<List<Object>> cps = new ArrayList<>();
            for (EvaluationReport.CheckpointEntry c : r.inputs().checkpoints()) {
                cps.add(row(c.name(), c.path(), c.step(), c.modelBytes() != null ? (Object) c.modelBytes() : "",
                        new Hash(c.modelSha256()), new Hash(c.stateSha256()), new Hash(c.tokenizerSha256())));
            }
            p.table(List.of("name", "path", "step", "model.zip bytes", "model.zip SHA-256", "state.json SHA-256", "tokenizer SHA-256"), cps);
            p.heading("Shards");
            List<List<Object>> sets = new ArrayList<>();
            for (EvaluationReport.ShardSetEntry s : r.inputs().shards()) {
                sets.add(row(s.path(), s.split(), s.shardFiles(), s.rows(), s.bytes() != null ? (Object) s.bytes() : "", s.vocabSize(),
                        s.contextLength(), new Hash(s.manifestSha256()), new Hash(s.tokenizerSha256())));
            }
            p.table(List.of("path", "split", "shard files", "rows", "bytes", "vocabulary", "context", "manifest.json SHA-256",
                    "tokenizer SHA-256"), sets);
            JsonNode runs = r.training() == null ? JSON.createArrayNode() : r.training().path("runs");
            if (!runs.isEmpty()) {
                p.heading("Training metrics");
                List<List<Object>> rows = new ArrayList<>();
                for (JsonNode run : runs) {
                    rows.add(row(run.path("metrics_file").asText(run.path("run").asText()),
                            run.has("metrics_bytes") ? (Object) run.path("metrics_bytes").asLong() : "",
                            run.has("error") ? run.path("error").asText() : new Hash(run.path("metrics_sha256").asText())));
                }
                p.table(List.of("file", "bytes", "SHA-256"), rows);
            }
            p.heading("Configuration (kiln.evaluate)");
            p.pre(r.config() == null ? "{ }" : r.config().toPrettyString());
        }
    }

    /** lineage.build as "arrow 12.0.1, dl4j 1.0.0-M2.1, ..."; empty for reports written before lineage. */
    static String builtWith(JsonNode build) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = build.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add(e.getKey() + " " + e.getValue().asText());
        }
        return String.join(", ", out);
    }

    /** The number, string and boolean fields of an object as (name, value) rows. */
    static List<List<Object>> scalars(JsonNode n) {
        List<List<Object>> rows = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("name") || !e.getValue().isValueNode() || e.getValue().isNull()) {
                continue;
            }
            rows.add(row(e.getKey().replace('_', ' '), cell(e.getValue())));
        }
        return rows;
    }

    /** An array of objects as a table whose columns are the union of their scalar fields, in first-seen order. */
    static void objectTable(Page p, JsonNode array, int limit) {
        Set<String> columns = new LinkedHashSet<>();
        for (JsonNode o : array) {
            o.fields().forEachRemaining(e -> {
                if (e.getValue().isValueNode()) {
                    columns.add(e.getKey());
                }
            });
        }
        if (columns.isEmpty()) {
            return;
        }
        List<List<Object>> rows = new ArrayList<>();
        for (int i = 0; i < Math.min(array.size(), limit); i++) {
            List<Object> row = new ArrayList<>();
            for (String c : columns) {
                row.add(array.get(i).has(c) ? cell(array.get(i).get(c)) : "");
            }
            rows.add(row);
        }
        p.table(columns.stream().map(c -> c.replace('_', ' ')).toList(), rows);
    }

    static Object cell(JsonNode v) {
        if (v.isIntegralNumber()) {
            return v.asLong();
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        String s = v.asText();
        return s.length() > 60 || s.contains("\n") ? new LongText(s) : s;
    }

    static List<JsonNode> items(JsonNode n) {
        List<JsonNode> out = new ArrayList<>();
        if (n.isArray()) {
            n.forEach(out::add);
        } else if (!n.isMissingNode() && !n.isNull()) {
            out.add(n);
        }
        return out;
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(e -> out.add(e.isValueNode() ? e.asText() : e.toString()));
        return out;
    }
}
