package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.Lineage;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.train.MetricsLog;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A complete report model made without Spark, through the real {@link Report#json} and {@link TrainingCurves#read}:
 * three checkpoints from two runs (real metrics.jsonl files written by the trainer's {@link MetricsLog}), one shard
 * folder, the three baselines, and classifier and generation parts in the shape the HTML sections read. The string
 * {@code injected} is planted wherever data reaches the page: a run folder (so checkpoint and metrics paths), a
 * checkpoint name, the shard folder, a source group, a class label, a prompt and a generated text.
 */
final class ReportFixtures {
    static final ObjectMapper JSON = new ObjectMapper();

    private ReportFixtures() {
    }

    static final Instant STARTED = Instant.parse("2026-12-01T20:00:00Z");
    static final Instant FINISHED = Instant.parse("2026-12-01T20:01:05Z");

    /** The inputs of the fixture report. */
    record Setting(EvaluateConfig cfg, Lineage lineage, Inputs.Checked in, Evaluation.Result result) {
    }

    static EvaluationReport report(java.nio.file.Path dir, String injected) throws IOException {
        Setting s = setting(dir, injected);
        return reportOf(s, injected);
    }

    static Setting setting(java.nio.file.Path dir, String injected) throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path runA = new Path(dir.resolve("pretrain").toUri());
        Path runB = new Path(dir.resolve("old" + injected + "run").toUri());
        metrics(fs, runA, 60, 2.0);
        metrics(fs, runB, 40, 1.0);
        List<Inputs.CheckpointInput> cps = List.of(checkpoint(fs, runA, 30, "pretrain/step-00000030"),
                checkpoint(fs, runA, 60, "pretrain/step-00000060"), checkpoint(fs, runB, 40, "old" + injected + "/step-00000040"));

        Path shards = new Path(dir.resolve("tokenized" + injected).toUri());
        ShardInfo val = new ShardInfo("shards/validation/part-0.arrow", ShardSchema.VALIDATION, 200, 13000, 0, 2, 53_400, "ab".repeat(32));
        Manifest m = new Manifest(1, "tokenizer.json", "cd".repeat(32), 512, 64, Map.of("<|endoftext|>", 511), null, List.of(), List.of(val));
        Inputs.ShardSetInput set = new Inputs.ShardSetInput(shards, m, "ef".repeat(32), "{}", 511, List.of(val), List.of(val));
        Path output = new Path(dir.resolve("reports").toUri());
        Map<String, String> o = Map.of("checkpoints", "[\"" + runA + "\"]", "shards", "[\"" + shards + "\"]", "output", output.toString(),
                "run-name", "fixture");
        EvaluateConfig cfg = EvalFixtures.config(o);
        Inputs.Checked in = new Inputs.Checked(cps, List.of(set), new Path(output, "fixture"));

        List<String> names = new ArrayList<>();
        cps.forEach(c -> names.add(c.name()));
        names.addAll(List.of("uniform", "unigram-add-one", "bigram-kneser-ney"));
        double[] bitsPerByte = {3.201, 3.044, 2.010, 3.792, 3.183, 2.115};
        List<LmStats> stats = new ArrayList<>();
        for (double bpb : bitsPerByte) {
            stats.add(new LmStats(bpb * 29_315 * Math.log(2), 12_352, 29_315, 4_925, 2));
        }
        // Two source groups (one named with the injected string, as a source path can be) that add up to the totals.
        Map<String, List<LmStats>> groups = new LinkedHashMap<>();
        List<LmStats> first = new ArrayList<>();
        List<LmStats> second = new ArrayList<>();
        for (int i = 0; i < bitsPerByte.length; i++) {
            double bpb1 = bitsPerByte[i] * 0.9;
            LmStats a = new LmStats(bpb1 * 12_000 * Math.log(2), 5_000, 12_000, 2_000, 1);
            first.add(a);
            LmStats total = stats.get(i);
            second.add(new LmStats(total.nll() - a.nll(), total.tokens() - a.tokens(), total.bytes() - a.bytes(),
                    total.words() - a.words(), total.documents() - a.documents()));
        }
        groups.put("sotu/17", first);
        groups.put("sotu/18" + injected, second);
        Evaluation.Result r = new Evaluation.Result("fixture", names, cps.size(), List.of(stats), List.of(cfg.perSource().cap(groups)),
                null, null, 200, 4, 12.5, 40, 8, 2);
        Lineage lineage = new Lineage("evaluate", "0.1.0-SNAPSHOT",
                Map.of("spark", "3.5.7", "dl4j", "1.0.0-M2.1", "nd4j", "1.0.0-M2.1", "arrow", "12.0.1"), "3.5.7", "17",
                EvaluateConfig.SECTION, EvalFixtures.lineage(o).config());
        return new Setting(cfg, lineage, in, r);
    }

    static EvaluationReport reportOf(Setting s, String injected) throws IOException {
        EvaluateConfig cfg = s.cfg();
        Inputs.Checked in = s.in();
        EvaluationReport.SparkApplication spark = new EvaluationReport.SparkApplication("local[2]", "local-1764619200000", null, null,
                List.of("127.0.0.1:0"), null);
        return Report.build(cfg, s.lineage(), in, s.result(), STARTED, FINISHED, new Report.Parts(spark,
                TrainingCurves.read(new Configuration(), in.checkpoints()),
                classifier(injected), List.of(), generation(injected)));
    }

    /** The same report from the schema-2 writer that report.json had before it became records. */
    static ObjectNode reportBefore(Setting s, String injected) throws IOException {
        ObjectNode spark = JSON.createObjectNode();
        spark.put("master", "local[2]");
        spark.put("app_id", "local-1764619200000");
        spark.putArray("executors").add("127.0.0.1:0");
        return ReportJsonSchema2.full(ReportJsonSchema2.json(s.cfg(), s.lineage(), s.in(), s.result(), STARTED, FINISHED), spark,
                TrainingCurves.read(new Configuration(), s.in().checkpoints()), classifier(injected), List.of(), generation(injected));
    }

    /** A metrics.jsonl as the trainer writes it: train records every 2 steps, validation every 10, checkpoints every 30. */
    static void metrics(FileSystem fs, Path run, int steps, double workers) throws IOException {
        MetricsLog log = new MetricsLog(fs, new Path(run, TrainingCurves.METRICS_FILE));
        for (int step = 2; step <= steps; step += 2) {
            double lr = step <= 10 ? 3e-3 * step / 10 : 3e-4 + 2.7e-3 * 0.5 * (1 + Math.cos(Math.PI * (step - 10) / (steps - 10)));
            ObjectNode t = log.record("train", step);
            t.put("loss", 6.2 * Math.exp(-step / 25.0) + 2.4);
            t.put("lr", lr);
            t.put("grad_norm", 1.0 / step);
            t.put("tokens", step * 16L * 64);
            t.put("tokens_per_s", 2000 * workers + 50 * Math.sin(step));
            t.put("round_s", 0.5);
            t.put("averaging_share", workers > 1 ? 0.08 + 0.01 * Math.cos(step) : 0.0);
            t.put("eta_s", steps - step);
            log.append(t);
            if (step % 10 == 0) {
                log.append(log.record("validation", step).put("loss", 6.4 * Math.exp(-step / 25.0) + 2.6));
            }
            if (step % 30 == 0 || step == steps) {
                log.append(log.record("checkpoint", step).put("path", new Path(run, "checkpoints/step-" + step).toString()));
            }
        }
        log.flush();
    }

    static Inputs.CheckpointInput checkpoint(FileSystem fs, Path run, long step, String name) throws IOException {
        Path folder = new Path(run, "checkpoints/" + CheckpointStore.name(step));
        Files.createDirectories(java.nio.file.Path.of(folder.toUri()));
        return new Inputs.CheckpointInput(name, folder, step, "cd".repeat(32), "12".repeat(32), "34".repeat(32), 1_234_567L,
                512, 64, new byte[0]);
    }

    static ObjectNode classifier(String injected) {
        ObjectNode c = JSON.createObjectNode();
        c.put("name", "spam-assassin/test");
        c.put("accuracy", 0.962);
        c.put("macro_f1", 0.948);
        c.putArray("labels").add("ham").add("spam" + injected);
        ArrayNode cm = c.putArray("confusion_matrix");
        cm.addArray().add(410).add(9);
        cm.addArray().add(14).add(167);
        ArrayNode per = c.putArray("per_class");
        per.addObject().put("label", "ham").put("precision", 0.967).put("recall", 0.979).put("f1", 0.973).put("support", 419);
        per.addObject().put("label", "spam" + injected).put("precision", 0.949).put("recall", 0.923).put("f1", 0.936).put("support", 181);
        ObjectNode roc = c.putObject("roc");
        ObjectNode pr = c.putObject("pr");
        ArrayNode fpr = roc.putArray("fpr");
        ArrayNode tpr = roc.putArray("tpr");
        ArrayNode rec = pr.putArray("recall");
        ArrayNode prec = pr.putArray("precision");
        for (int i = 0; i <= 20; i++) {
            double x = i / 20.0;
            fpr.add(x);
            tpr.add(Math.pow(x, 0.15));
            rec.add(x);
            prec.add(1 - 0.3 * Math.pow(x, 4));
        }
        roc.put("auc", 0.981);
        pr.put("average_precision", 0.957);
        return c;
    }

    static ObjectNode generation(String injected) {
        ObjectNode g = JSON.createObjectNode();
        g.put("name", "prompts.jsonl");
        g.putObject("metrics").put("bleu", 12.3).put("rouge1_f", 0.41);
        ArrayNode samples = g.putArray("samples");
        samples.addObject().put("prompt", "Fellow citizens").put("text", "of the Senate and House of Representatives:\nthe state of the Union is strong.")
                .put("tokens", 18).put("stop_reason", "length");
        samples.addObject().put("prompt", injected).put("text", "generated " + injected).put("tokens", 7).put("stop_reason", "end_of_text");
        return g;
    }
}
