package dev.kiln.common.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Names Spark jobs after the Kiln stage that runs them, so the Spark UI and event logs read
 * "preprocess: near-dedup bands" rather than "collect at ...".
 */
public final class SparkStages {
    private SparkStages() {
    }

    /** Sets the job group and description for all Spark jobs started by this thread until the next call. */
    public static void stage(SparkSession spark, String job, String stage) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        jsc.setJobGroup("kiln-" + job, job + ": " + stage, false);
        jsc.setJobDescription(job + ": " + stage);
    }
}
