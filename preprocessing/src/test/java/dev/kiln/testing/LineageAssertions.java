package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.common.config.Lineage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks that an output records its lineage (see {@link Lineage#toJson()}): the tests of every stage share it. */
public final class LineageAssertions {
    private LineageAssertions() {
    }

    /** What tests of every stage check in their outputs: a lineage object of this build for {@code stage}. */
    public static void assertLineage(JsonNode lineage, String stage, String section) {
        assertTrue(lineage != null && lineage.isObject(), "no lineage object: " + lineage);
        assertEquals(stage, lineage.path("stage").asText(), "lineage.stage");
        assertEquals(Lineage.KILN_VERSION, lineage.path("kiln_version").asText(), "lineage.kiln_version");
        assertFalse(lineage.path("kiln_version").asText().isBlank() || lineage.path("kiln_version").asText().contains("${"));
        assertEquals(section, lineage.path("section").asText(), "lineage.section");
        assertTrue(lineage.path("config").isObject() && !lineage.path("config").isEmpty(), "lineage.config: " + lineage.path("config"));
        assertFalse(lineage.path("build").path("dl4j").asText().isBlank(), "lineage.build.dl4j");
    }
}
