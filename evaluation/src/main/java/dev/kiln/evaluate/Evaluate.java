package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;

/** {@code kiln evaluate} from a validated config: check the inputs, score, write the report folder. */
public final class Evaluate {
    private static final Logger LOG = LoggerFactory.getLogger(Evaluate.class);

    private Evaluate() {
    }

    /** What a run produced: the numbers and the report folder. */
    public record Outcome(Evaluation.Result result, JsonNode report, org.apache.hadoop.fs.Path folder) {
    }

    public static Outcome run(SparkSession spark, EvaluateConfig cfg, JsonNode configJson) throws IOException {
        Instant started = Instant.now();
        Inputs.Checked in = Inputs.check(cfg, spark.sparkContext().hadoopConfiguration());
        Evaluation.Result r = Evaluation.run(spark, cfg, in);
        ObjectNode versions = Report.versions(spark.version());
        ObjectNode report = Report.json(cfg, configJson, in, r, started, Instant.now(), versions);
        report.set("spark", Report.spark(spark.sparkContext()));
        report.set("training", TrainingCurves.read(spark.sparkContext().hadoopConfiguration(), in.checkpoints()));
        FileSystem fs = in.report().getFileSystem(spark.sparkContext().hadoopConfiguration());
        Report.write(fs, in.report(), report);
        for (JsonNode f : report.path("flags")) {
            LOG.warn("[evaluate] {}", f.asText());
        }
        LOG.info("[evaluate] report written to {}", in.report());
        return new Outcome(r, report, in.report());
    }
}
