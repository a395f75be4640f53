package dev.kiln.common.config;

import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineageTest {

    /** The version in the parent pom: what Maven's resource filtering must have written into the properties file. */
    static String pomVersion() throws Exception {
        String pom = Files.readString(Path.of("..", "pom.xml"));
        Matcher m = Pattern.compile("<artifactId>kiln-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "no kiln-parent version in ../pom.xml");
        return m.group(1);
    }

    @Test
    void kilnVersionComesFromTheBuild() throws Exception {
        String v = Lineage.KILN_VERSION;
        assertFalse(v == null || v.isBlank(), "no Kiln version in " + Lineage.VERSION_RESOURCE);
        assertFalse(v.contains("${"), "the version file was not filtered: " + v);
        assertEquals(pomVersion(), v);
        Map<String, String> build = Lineage.buildVersions();
        for (String lib : new String[]{"spark", "dl4j", "nd4j", "arrow"}) {
            String lv = build.get(lib);
            assertTrue(lv != null && !lv.isBlank() && !lv.contains("${"), lib + " version: " + lv);
        }
        assertEquals(org.apache.spark.package$.MODULE$.SPARK_VERSION(), build.get("spark"),
                "Kiln is built against the Spark on its classpath");
    }

    @Test
    void recordsTheEffectiveSectionAndRoundTrips() throws Exception {
        Lineage l = Lineage.of("test", KilnConfig.load(null, Map.of("kiln.test-section.bands", "24")), "kiln.test-section", "3.5.7");
        ObjectNode json = l.toJson();
        assertEquals("test", json.path("stage").asText());
        assertEquals(Lineage.KILN_VERSION, json.path("kiln_version").asText());
        assertEquals("3.5.7", json.path("runtime").path("spark").asText());
        assertEquals(System.getProperty("java.version"), json.path("runtime").path("java").asText());
        assertEquals("kiln.test-section", json.path("section").asText());
        assertEquals(24, json.path("config").path("bands").asInt());
        assertEquals(0.5, json.path("config").path("threshold").asDouble());
        assertEquals(Lineage.buildVersions().get("dl4j"), json.path("build").path("dl4j").asText());
        assertEquals(l, Lineage.fromJson(json));
        assertEquals(json, Lineage.fromJson(json).toJson());
        assertNull(Lineage.fromJson(null));
        assertNull(Lineage.fromJson(MissingNode.getInstance()));
    }
}
