package dev.kiln.evaluate;

import dev.kiln.evaluate.classify.ClassifierReport;
import org.apache.hadoop.fs.FileSystem;
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
    public record Outcome(Inputs.Checked inputs, Evaluation.Result result, EvaluationReport report, org.apache.hadoop.fs.Path folder,
                          ClassifierReport.Result classifier, GenerationReport.Result generation) {
    }

    /** {@code lineage}: the run's (effective kiln.evaluate section, versions), recorded in report.json. */
    public static Outcome run(SparkSession spark, EvaluateConfig cfg, dev.kiln.common.config.Lineage lineage) throws IOException {
        Instant started = Instant.now();
        org.apache.hadoop.conf.Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        Inputs.Checked in = Inputs.check(cfg, hadoop);
        // Every input is read and checked before the first Spark job: bad predictions or prompts write nothing.
        EvaluateConfig.Classifier cls = cfg.classifier();
        List<ClassifierReport.PredictionSet> predictions = List.of();
        if (cls.enabled()) {
            predictions = ClassifierReport.read(cls.predictions(), hadoop);
            ClassifierReport.checkDocuments(cls.documents(), hadoop);
        }
        List<GenerationReport.EvalPrompt> prompts = cfg.generation().enabled()
                ? GenerationReport.prompts(cfg.generation(), in, hadoop) : List.of();
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
