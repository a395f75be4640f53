package dev.kiln.evaluate;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;
import dev.kiln.evaluate.classify.ClassifyConfig;
import dev.kiln.generate.GenerationConfig;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/** The typed, validated {@code kiln.evaluate} section (see the evaluation module's reference.conf for every key). */
public record EvaluateConfig(List<String> checkpoints, List<String> shards, String split, String output, String runName,
                             String endOfText, int batchSize, int tokensPerTask, int blocksPerTask, List<Baseline> baselines,
                             double bigramDiscount, Classifier classifier, GenerationEval generation,
                             SourceGroups perSource) implements Serializable {

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

    /**
     * {@code kiln.evaluate.classifier}: fine-tuned classifiers' predictions next to the baselines.
     *
     * @param predictions prediction files or folders, one model each; empty: no classifier part
     * @param documents   the labelled documents the baselines are trained on, or null (only when predictions is empty)
     */
    public record Classifier(List<String> predictions, String documents, ClassifyConfig classify) implements Serializable {
        public Classifier {
            predictions = List.copyOf(predictions);
        }

        public boolean enabled() {
            return !predictions.isEmpty();
        }
    }

    /**
     * {@code kiln.evaluate.generation}: prompts from a file and/or cut from scored documents, decoded by
     * {@code decoding} (a {@link GenerationConfig} with no checkpoint, prompts or output: those come from here).
     *
     * @param prompts        a prompt file, or null
     * @param fromValidation documents of the scored split cut into prompt and reference; 0: none
     */
    public record GenerationEval(String prompts, int fromValidation, int promptTokens, int referenceTokens,
                                 GenerationConfig decoding) implements Serializable {
        public boolean enabled() {
            return prompts != null || fromValidation > 0;
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
        List<Baseline> baselines = new ArrayList<>();
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
        String endOfText = s.nonEmpty("end-of-text");
        Settings c = s.section("classifier");
        List<String> predictions = c.stringList("predictions");
        String documents = c.optionalString("documents");
        c.require(predictions.isEmpty() || documents != null, "documents", "expected the `kiln preprocess` documents folder the "
                + "fine-tune was trained on (the baselines are trained and scored on its split), since "
                + c.key("predictions") + " is set");
        c.require(new HashSet<>(predictions).size() == predictions.size(), "predictions", "lists a path twice: " + predictions);
        Classifier classifier = new Classifier(predictions, documents, ClassifyConfig.from(config));
        return new EvaluateConfig(checkpoints, shards, split, s.nonEmpty("output"), runName, endOfText,
                s.intIn("batch-size", 1, 4096), s.intIn("tokens-per-task", 1, 1 << 30), s.intIn("blocks-per-task", 1, 1 << 20), baselines, d, classifier,
                generation(s.section("generation"), endOfText), perSource(s.section("per-source")));
    }

    /** {@code kiln.evaluate.per-source}: group-by, pattern (a regex with a capture group, for group-by = pattern), max-groups. */
    static SourceGroups perSource(Settings p) {
        SourceGroups.GroupBy by = p.enumValue("group-by", SourceGroups.GroupBy.class);
        String pattern = p.string("pattern");
        if (by == SourceGroups.GroupBy.PATTERN) {
            p.require(!pattern.isEmpty(), "pattern", "expected a regular expression with a capture group, since "
                    + p.key("group-by") + " = pattern");
            try {
                SourceGroups.compile(pattern);
            } catch (IllegalArgumentException e) { // PatternSyntaxException included
                p.require(false, "pattern", e.getMessage().replace(System.lineSeparator(), " "));
            }
        }
        return new SourceGroups(by, pattern, p.intIn("max-groups", 1, 10_000));
    }

    /** The generation keys, checked as {@link GenerationConfig#from} checks its own. */
    static GenerationEval generation(Settings g, String endOfText) {
        boolean sample = g.bool("do-sample");
        double temperature = g.doubleIn("temperature", -Double.MAX_VALUE, Double.MAX_VALUE);
        g.require(!sample || temperature > 0, "temperature",
                "must be > 0 when do-sample = true, got " + temperature + " (for greedy decoding set do-sample = false)");
        double topP = g.doubleIn("top-p", -Double.MAX_VALUE, Double.MAX_VALUE);
        g.require(topP > 0 && topP <= 1, "top-p", "must be in (0, 1], got " + topP);
        double penalty = g.doubleIn("repetition-penalty", -Double.MAX_VALUE, Double.MAX_VALUE);
        g.require(penalty > 0, "repetition-penalty", "must be > 0 (1 = no penalty), got " + penalty);
        int maxNew = g.intIn("max-new-tokens", 1, 1 << 20);
        // checkpoint, tokenizer, prompts and output are not used: the evaluated checkpoints and the shards' tokenizer are.
        GenerationConfig decoding = new GenerationConfig(null, null, null, "-", endOfText, maxNew, maxNew, 1, sample,
                temperature, g.intIn("top-k", 0, Integer.MAX_VALUE), topP, penalty,
                g.longIn("seed", Long.MIN_VALUE, Long.MAX_VALUE), g.intIn("batch-size", 1, 4096), 0);
        return new GenerationEval(g.optionalString("prompts"), g.nonNegativeInt("from-validation"),
                g.positiveInt("prompt-tokens"), g.positiveInt("reference-tokens"), decoding);
    }
}
