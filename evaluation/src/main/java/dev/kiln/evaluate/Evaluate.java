package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

    /** What a run produced: the numbers and the report folder; classifier and generation are null when off. */
    public record Outcome(Evaluation.Result result, JsonNode report, org.apache.hadoop.fs.Path folder,
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
        ObjectNode report = Report.json(cfg, lineage, in, r, started, Instant.now());
        report.set("spark", Report.spark(spark.sparkContext()));
        report.set("training", TrainingCurves.read(hadoop, in.checkpoints()));
        if (classifier != null) {
            report.set("classifier", ClassifierReport.json(classifier, cls.documents(), cls.classify()));
            ClassifierReport.flags(classifier, cls.documents()).forEach(((ArrayNode) report.withArray("flags"))::add);
        }
        if (generation != null) {
            report.set("generation", GenerationReport.json(generation, in, cfg.generation()));
        }
        FileSystem fs = in.report().getFileSystem(hadoop);
        Report.write(fs, in.report(), report);
        for (JsonNode f : report.path("flags")) {
            LOG.warn("[evaluate] {}", f.asText());
        }
        LOG.info("[evaluate] report written to {}", in.report());
        return new Outcome(r, report, in.report(), classifier, generation);
    }
}
