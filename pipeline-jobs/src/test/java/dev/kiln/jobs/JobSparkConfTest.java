package dev.kiln.jobs;

import com.typesafe.config.ConfigFactory;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The Spark settings a job's session starts with, before Spark itself starts. */
class JobSparkConfTest {

    /**
     * Training rounds shuffle model-state chunks: their Java serialization streams must not keep each written chunk
     * referenced (GPT-2 small's executors ran out of heap holding a whole state), while a user's setting wins and the
     * data stages keep Spark's default.
     */
    @Test
    void trainingJobsResetTheJavaSerializerAfterEveryObject() {
        SparkConf pretrain = JobRunner.sparkConf("pretrain", ConfigFactory.empty());
        assertEquals("1", pretrain.get("spark.serializer.objectStreamReset"));
        assertEquals("1", JobRunner.sparkConf("finetune", ConfigFactory.empty()).get("spark.serializer.objectStreamReset"));
        assertFalse(JobRunner.sparkConf("preprocess", ConfigFactory.empty()).contains("spark.serializer.objectStreamReset"));
        SparkConf userSet = JobRunner.sparkConf("pretrain",
                ConfigFactory.parseString("kiln.spark.conf { \"spark.serializer.objectStreamReset\" = 50 }"));
        assertEquals("50", userSet.get("spark.serializer.objectStreamReset"));
    }
}
