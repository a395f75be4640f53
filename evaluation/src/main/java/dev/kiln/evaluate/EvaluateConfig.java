package dev.kiln.evaluate;

import com.typesafe.config.Config;
import dev.kiln.config.Settings;

import java.io.Serializable;
import java.util.HashSet;
import java.util.List;

/** The typed, validated {@code kiln.evaluate} section (see the evaluation module's reference.conf for every key). */
public record EvaluateConfig(List<String> checkpoints, List<String> shards, String split, String output, String runName,
                             String endOfText, int batchSize, int blocksPerTask, List<Baseline> baselines,
                             double bigramDiscount) implements Serializable {

    public static final String SECTION = "kiln.evaluate";

    /** The n-gram baselines, by their names in the configuration. */
    public enum Baseline {
        UNIFORM("uniform"), UNIGRAM("unigram-add-one"), BIGRAM("bigram-kneser-ney");

        private final String key;

        Baseline(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    public EvaluateConfig {
        checkpoints = List.copyOf(checkpoints);
        shards = List.copyOf(shards);
        baselines = List.copyOf(baselines);
    }

    /** True when the bigram discounts are estimated from the counts (n1 / (n1 + 2 n2)). */
    public boolean estimateDiscount() {
        return Double.isNaN(bigramDiscount);
    }

    public static EvaluateConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        List<String> checkpoints = s.stringList("checkpoints");
        s.require(!checkpoints.isEmpty(), "checkpoints", "expected one or more checkpoint folders (a step-N folder, or a `kiln pretrain` output folder for its newest checkpoint)");
        List<String> shards = s.stringList("shards");
        s.require(!shards.isEmpty(), "shards", "expected one or more `kiln tokenize` output folders");
        s.require(new HashSet<>(shards).size() == shards.size(), "shards", "lists a folder twice: " + shards);
        String split = s.oneOf("split", "validation", "train");
        String runName = s.nonEmpty("run-name");
        s.require(runName.matches("[A-Za-z0-9][A-Za-z0-9._-]*"), "run-name",
                "expected a folder name of letters, digits, '.', '_' and '-' (not starting with '.', '_' or '-'), got \"" + runName + "\"");
        Settings b = s.section("baselines");
        List<Baseline> baselines = new java.util.ArrayList<>();
        for (String name : b.stringList("models")) {
            Baseline found = null;
            for (Baseline candidate : Baseline.values()) {
                if (candidate.key.equalsIgnoreCase(name.trim())) {
                    found = candidate;
                }
            }
            b.require(found != null, "models", "unknown baseline \"" + name + "\"; expected any of uniform, unigram-add-one, bigram-kneser-ney");
            b.require(!baselines.contains(found), "models", "lists " + found.key + " twice");
            baselines.add(found);
        }
        String discount = b.string("bigram-discount").trim();
        double d;
        if (discount.equalsIgnoreCase("auto")) {
            d = Double.NaN;
        } else {
            d = b.doubleIn("bigram-discount", 0, 1);
            b.require(d > 0, "bigram-discount", "expected \"auto\" or a number in (0, 1], got " + d);
        }
        return new EvaluateConfig(checkpoints, shards, split, s.nonEmpty("output"), runName, s.nonEmpty("end-of-text"),
                s.intIn("batch-size", 1, 4096), s.intIn("blocks-per-task", 1, 1 << 20), baselines, d);
    }
}
