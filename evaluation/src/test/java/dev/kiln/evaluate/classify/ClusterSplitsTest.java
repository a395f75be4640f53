package dev.kiln.evaluate.classify;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterSplitsTest {
    @Test
    void aPureFunctionOfTheClusterWithTheConfiguredFractions() {
        ClusterSplits s = new ClusterSplits(0.7, 0.1, 0.2);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            String cluster = "cluster-" + i;
            String split = s.splitOf(cluster);
            assertEquals(split, new ClusterSplits(0.7, 0.1, 0.2).splitOf(cluster), "deterministic");
            counts.merge(split, 1, Integer::sum);
        }
        // Binomial standard deviations at n = 20,000 are below 0.0033; allow 4 of them.
        assertEquals(0.7, counts.get("train") / 20_000.0, 0.013);
        assertEquals(0.1, counts.get("validation") / 20_000.0, 0.013);
        assertEquals(0.2, counts.get("test") / 20_000.0, 0.013);
        // Growing the test fraction at the expense of validation moves no cluster out of train.
        ClusterSplits t = new ClusterSplits(0.7, 0.0, 0.3);
        for (int i = 0; i < 2_000; i++) {
            assertEquals(s.splitOf("c" + i).equals("train"), t.splitOf("c" + i).equals("train"));
        }
        assertThrows(IllegalArgumentException.class, () -> new ClusterSplits(0.8, 0.1, 0.2));
        assertThrows(IllegalArgumentException.class, () -> new ClusterSplits(1.1, -0.1, 0.0));
    }

    @Test
    void configFromReferenceConfAndItsChecks() {
        ClassifyConfig c = ClassifyConfig.from(KilnConfig.load(null, Map.of()));
        assertEquals("label", c.labelField());
        assertNull(c.positiveLabel(), "blank positive label: one-vs-rest");
        assertEquals(new ClusterSplits(0.8, 0.1, 0.1), c.splits());
        assertEquals(List.of(0.001, 0.01, 0.1, 1.0), c.regParams());
        assertEquals(262144, c.numFeatures());

        ClassifyConfig spam = ClassifyConfig.from(KilnConfig.load(null, Map.of(
                "kiln.evaluate.classify.positive-label", "spam", "kiln.evaluate.classify.logistic-regression.reg-params", "0.5,0")));
        assertEquals("spam", spam.positiveLabel());
        assertEquals(List.of(0.5, 0.0), spam.regParams());

        InvalidConfigException sum = assertThrows(InvalidConfigException.class, () -> ClassifyConfig.from(KilnConfig.load(null,
                Map.of("kiln.evaluate.classify.splits.test", "0.3"))));
        assertTrue(sum.getMessage().contains("kiln.evaluate.classify.splits.test"), sum.getMessage());
        InvalidConfigException reg = assertThrows(InvalidConfigException.class, () -> ClassifyConfig.from(KilnConfig.load(null,
                Map.of("kiln.evaluate.classify.logistic-regression.reg-params", "0.1,x"))));
        assertTrue(reg.getMessage().contains("reg-params"), reg.getMessage());
        assertThrows(InvalidConfigException.class, () -> KilnConfig.load(null, Map.of("kiln.evaluate.classify.positive-lable", "spam")));
    }
}
