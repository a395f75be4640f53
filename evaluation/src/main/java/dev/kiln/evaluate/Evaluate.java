package dev.kiln.evaluate;

import dev.kiln.common.config.Lineage;
import dev.kiln.evaluate.classify.ClassifierReport;
import dev.kiln.shards.ShardInfo;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/** {@code kiln evaluate} from a validated config: check the inputs, score, write the report folder. */
public final class Evaluate {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluate.class);

    private Evaluate() {
    }

    /** What a run read and produced: the inputs, the numbers and the report folder; classifier and generation are null when off. */
    public record Outcome(Inputs.Checked inputs, Evaluation.Result result, EvaluationReport report, Path folder,
                          ClassifierReport.Result classifier, GenerationReport.Result generation) {
    }

    /** Every input of a run, read and checked before the first Spark job: bad predictions or prompts write nothing. */
    record Prepared(Inputs.Checked in, List<ClassifierReport.PredictionSet> predictions, List<GenerationReport.EvalPrompt> prompts) {
    }

    static Prepared prepare(EvaluateConfig cfg, Configuration hadoop) throws IOException {
        Inputs.Checked in = Inputs.check(cfg, hadoop);
        EvaluateConfig.Classifier cls = cfg.classifier();
        List<ClassifierReport.PredictionSet> predictions = List.of();
        if (cls.enabled()) {
            predictions = ClassifierReport.read(cls.predictions(), hadoop);
            ClassifierReport.checkDocuments(cls.documents(), hadoop);
        }
        List<GenerationReport.EvalPrompt> prompts = cfg.generation().enabled()
                ? GenerationReport.prompts(cfg.generation(), in, hadoop) : List.of();
        return new Prepared(in, predictions, prompts);
    }

    /**
     * {@code kiln evaluate --dry-run}: the checks a run makes before its first Spark job (checkpoints, shards, tokenizer,
     * the report folder, predictions, prompts), and what it would score and write; no Spark session, nothing written.
     */
    public static String plan(EvaluateConfig cfg, Configuration hadoop) throws IOException {
        Prepared p = prepare(cfg, hadoop);
        StringBuilder sb = new StringBuilder();
        for (Inputs.CheckpointInput c : p.in().checkpoints()) {
            sb.append("  checkpoint ").append(c.name()).append(": ").append(c.folder()).append(" (step ").append(c.step()).append(")\n");
        }
        for (Inputs.ShardSetInput s : p.in().shardSets()) {
            sb.append("  shards ").append(s.dir()).append(": ").append(s.scored().size()).append(" shard(s) of split ").append(cfg.split())
                    .append(", ").append(s.scored().stream().mapToLong(ShardInfo::tokens).sum()).append(" tokens\n");
        }
        sb.append("  baselines: ").append(cfg.baselines().isEmpty() ? "none"
                : String.join(", ", cfg.baselines().stream().map(EvaluateConfig.Baseline::key).toList())).append('\n');
        if (cfg.classifier().enabled()) {
            sb.append("  classifier: ").append(p.predictions().size()).append(" prediction set(s), documents ")
                    .append(cfg.classifier().documents()).append('\n');
        }
        if (!p.prompts().isEmpty()) {
            sb.append("  generation: ").append(p.prompts().size()).append(" prompt(s) for each checkpoint\n");
        }
        sb.append("  would write ").append(p.in().report()).append(" (").append(Report.JSON_FILE).append(", ")
                .append(Report.MARKDOWN_FILE).append(", ").append(HtmlReport.FILE).append(")\n");
        return sb.toString();
    }

    /** {@code lineage}: the run's (effective kiln.evaluate section, versions), recorded in report.json. */
    public static Outcome run(SparkSession spark, EvaluateConfig cfg, Lineage lineage) throws IOException {
        Instant started = Instant.now();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        Prepared prepared = prepare(cfg, hadoop);
        Inputs.Checked in = prepared.in();
        List<ClassifierReport.PredictionSet> predictions = prepared.predictions();
        List<GenerationReport.EvalPrompt> prompts = prepared.prompts();
        EvaluateConfig.Classifier cls = cfg.classifier();
        // The classifier part first: its label check is a quick Spark job that fails before hours of scoring.
        ClassifierReport.Result classifier = cls.enabled()
                ? ClassifierReport.run(spark, cls.documents(), cls.classify(), predictions) : null;

        Evaluation.Result r = Evaluation.run(spark, cfg, in);
        GenerationReport.Result generation = prompts.isEmpty() ? null
                : GenerationReport.run(spark, r.runId(), in, cfg.generation().decoding(), prompts);
        Report.Parts parts = new Report.Parts(Report.spark(spark.sparkContext()), TrainingCurves.read(hadoop, in.checkpoints()),
                classifier == null ? null : ClassifierReport.json(classifier, cls.documents(), cls.classify()),
                classifier == null ? null : ClassifierReport.flags(classifier, cls.documents()),
                generation == null ? null : GenerationReport.json(generation, in, cfg.generation()));
        EvaluationReport report = Report.build(cfg, lineage, in, r, started, Instant.now(), parts);
        FileSystem fs = in.report().getFileSystem(hadoop);
        Report.write(fs, in.report(), report);
        report.flags().forEach(f -> LOG.warn("[evaluate] {}", f));
        LOG.info("[evaluate] report written to {}", in.report());
        return new Outcome(in, r, report, in.report(), classifier, generation);
    }
}
