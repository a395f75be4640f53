package dev.kiln.evaluate.classify;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * The typed, validated {@code kiln.evaluate.classify} section: how labelled documents are split and how the
 * classifier baselines are trained (see the evaluation module's reference.conf for every key).
 *
 * @param positiveLabel the positive class of a binary task, or null (blank in the configuration) for one-vs-rest
 */
public record ClassifyConfig(String labelField, String positiveLabel, ClusterSplits splits, int numFeatures,
                             int minDocFreq, List<Double> regParams, double elasticNetParam, int maxIter) implements Serializable {

    public static final String SECTION = "kiln.evaluate.classify";

    public ClassifyConfig {
        regParams = List.copyOf(regParams);
    }

    public static ClassifyConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        Settings sp = s.section("splits");
        double train = sp.doubleIn("train", 0, 1);
        double validation = sp.doubleIn("validation", 0, 1);
        double test = sp.doubleIn("test", 0, 1);
        sp.require(Math.abs(train + validation + test - 1) <= 1e-9, "test",
                "expected train + validation + test = 1, got " + train + " + " + validation + " + " + test);
        sp.require(train > 0 && validation > 0 && test > 0, "train",
                "the baselines need all three splits: expected fractions > 0, got " + train + ", " + validation + ", " + test);
        Settings tf = s.section("tfidf");
        Settings lr = s.section("logistic-regression");
        List<Double> grid = new ArrayList<>();
        for (String v : lr.stringList("reg-params")) {
            double d;
            try {
                d = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                d = Double.NaN;
            }
            lr.require(d >= 0 && Double.isFinite(d), "reg-params", "expected numbers >= 0, got \"" + v + "\"");
            grid.add(d);
        }
        lr.require(!grid.isEmpty(), "reg-params", "expected one or more regularisation strengths to try");
        lr.require(new HashSet<>(grid).size() == grid.size(), "reg-params", "lists a value twice: " + grid);
        return new ClassifyConfig(s.nonEmpty("label-field"), s.optionalString("positive-label"),
                new ClusterSplits(train, validation, test), tf.intIn("num-features", 2, 1 << 26), tf.nonNegativeInt("min-doc-freq"),
                grid, lr.doubleIn("elastic-net-param", 0, 1), lr.intIn("max-iter", 1, 100_000));
    }
}
