package dev.kiln.common.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where an output came from, recorded the same way by every stage (stats.json, manifest.json, checkpoints'
 * state.json, report.json): the stage, Kiln's version and the library versions it was built with (from the
 * Maven-filtered {@code kiln-version.properties}), the Spark and Java versions it ran on, and the effective
 * configuration section as HOCON resolved it (defaults, {@code --conf} file and {@code -D} overrides applied).
 * The job runner builds one per run, after the SparkSession starts, and hands it to the stage body.
 *
 * @param stage        the stage that wrote the output ({@code preprocess}, {@code pretrain}, ...)
 * @param kilnVersion  Kiln's Maven version, e.g. {@code 0.1.0-SNAPSHOT}
 * @param build        library versions Kiln was built against: spark, scala, hadoop, dl4j, nd4j, arrow
 * @param sparkVersion the Spark version of the running session ({@code SparkSession.version()}); null without one
 * @param javaVersion  the running JVM's {@code java.version}
 * @param section      the configuration section the stage reads, e.g. {@code kiln.train}
 * @param config       that section, rendered as JSON
 */
public record Lineage(String stage, String kilnVersion, Map<String, String> build, String sparkVersion,
                      String javaVersion, String section, JsonNode config) {
    /** The classpath resource Maven fills in at build time. */
    public static final String VERSION_RESOURCE = "/dev/kiln/common/config/kiln-version.properties";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Properties BUILD = readBuild();
    /** Kiln's version as Maven built it (the project version, e.g. {@code 0.1.0-SNAPSHOT}). */
    public static final String KILN_VERSION = BUILD.getProperty("kiln.version");

    public Lineage {
        build = Map.copyOf(build);
    }

    /**
     * The lineage of a run of {@code stage} over the resolved {@code config}; {@code sparkVersion}: the session's
     * ({@code SparkSession.version()}), or null when the stage runs without one (tests, benchmarks).
     */
    public static Lineage of(String stage, Config config, String section, String sparkVersion) {
        JsonNode rendered;
        try {
            rendered = JSON.readTree(KilnConfig.renderJson(config, section));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read back the rendering of " + section, e);
        }
        return of(stage, section, rendered, sparkVersion);
    }

    /** The lineage of a run of this build over an already rendered {@code section} ({@code config}). */
    public static Lineage of(String stage, String section, JsonNode config, String sparkVersion) {
        return new Lineage(stage, KILN_VERSION, buildVersions(), sparkVersion, System.getProperty("java.version"),
                section, config);
    }

    /** The library versions of the build: spark, scala, hadoop, dl4j, nd4j, arrow. */
    public static Map<String, String> buildVersions() {
        Map<String, String> out = new TreeMap<>();
        for (String key : BUILD.stringPropertyNames()) {
            if (key.endsWith(".version") && !key.equals("kiln.version")) {
                out.put(key.substring(0, key.length() - ".version".length()), BUILD.getProperty(key));
            }
        }
        return out;
    }

    /** The effective configuration section as compact JSON text (what checkpoints also keep under "config"). */
    public String configJson() {
        return config.toString();
    }

    /**
     * The {@code "lineage"} object every output embeds:
     * <pre>{"stage": "pretrain", "kiln_version": "0.1.0", "build": {"spark": "3.5.7", ...},
     *  "runtime": {"spark": "3.5.7", "java": "17.0.12"}, "section": "kiln.train", "config": {...}}</pre>
     */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("stage", stage);
        n.put("kiln_version", kilnVersion);
        ObjectNode b = n.putObject("build");
        new TreeMap<>(build).forEach(b::put);
        ObjectNode runtime = n.putObject("runtime");
        runtime.put("spark", sparkVersion);
        runtime.put("java", javaVersion);
        n.put("section", section);
        n.set("config", config.deepCopy());
        return n;
    }

    /** Reads {@link #toJson()} back; null for outputs written before Kiln recorded lineage. */
    public static Lineage fromJson(JsonNode n) {
        if (n == null || !n.isObject()) {
            return null;
        }
        Map<String, String> build = new TreeMap<>();
        n.path("build").fields().forEachRemaining(e -> build.put(e.getKey(), e.getValue().asText()));
        JsonNode runtime = n.path("runtime");
        return new Lineage(n.path("stage").asText(null), n.path("kiln_version").asText(null), build,
                runtime.path("spark").asText(null), runtime.path("java").asText(null), n.path("section").asText(null),
                n.path("config"));
    }

    private static Properties readBuild() {
        Properties p = new Properties();
        try (InputStream in = Lineage.class.getResourceAsStream(VERSION_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(VERSION_RESOURCE + " is not on the classpath: build Kiln with Maven");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + VERSION_RESOURCE, e);
        }
        return p;
    }
}
