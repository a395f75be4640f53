package dev.kiln.testing;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.kiln.common.config.Lineage;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.tokenize.TokenizeConfig;
import org.apache.spark.sql.SparkSession;

/**
 * The lineage a test hands a stage body where the job runner would build one from the resolved configuration: this
 * build's versions, the session's Spark version and an empty configuration section (the tests' configs are built from
 * overrides, not rendered). Stage bodies always take a real lineage; the job tests check the rendered one.
 */
public final class TestLineage {
    private TestLineage() {
    }

    public static Lineage preprocess(SparkSession spark) {
        return of("preprocess", PreprocessConfig.SECTION, spark);
    }

    public static Lineage tokenize(SparkSession spark) {
        return of("tokenize", TokenizeConfig.SECTION, spark);
    }

    public static Lineage of(String stage, String section, SparkSession spark) {
        return Lineage.of(stage, section, JsonNodeFactory.instance.objectNode(), spark.version());
    }
}
