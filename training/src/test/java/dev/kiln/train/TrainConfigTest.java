package dev.kiln.train;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    @Test
    void referenceDefaultsAreValid() {
        TrainConfig c = TrainConfig.from(KilnConfig.load(null, Map.of()));
        assertEquals(1, c.parallel().workers());
        assertEquals(TrainConfig.OuterOptimizer.AVERAGE, c.parallel().outerOptimizer());
        assertEquals(16, c.globalBatch());
        assertTrue(c.model().tieEmbeddings() && !c.model().headBias(), "GPT-2's head: tied, no bias");
        TrainConfig untied = TrainConfig.from(KilnConfig.load(null, Map.of("kiln.train.model.tie-embeddings", "false")));
        assertFalse(untied.model().headBias(), "an untied head has no bias unless asked for");
    }

    @Test
    void aTiedHeadWithABiasIsRefusedNamingTheKey() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> TrainConfig.from(
                KilnConfig.load(null, Map.of("kiln.train.model.head-bias", "true"))));
        assertTrue(e.getMessage().contains("kiln.train.model.head-bias") && e.getMessage().contains("tie-embeddings"),
                e.getMessage());
        assertTrue(TrainConfig.from(KilnConfig.load(null, Map.of("kiln.train.model.head-bias", "true",
                "kiln.train.model.tie-embeddings", "false"))).model().headBias());
    }

    @Test
    void badValuesNameTheirKey() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> TrainConfig.from(
                KilnConfig.load(null, Map.of("kiln.train.model.d-model", "100", "kiln.train.model.heads", "3"))));
        assertTrue(e.getMessage().contains("kiln.train.model.d-model"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> TrainConfig.from(
                KilnConfig.load(null, Map.of("kiln.train.parallel.outer-optimizer", "adam"))));
        assertTrue(e.getMessage().contains("outer-optimizer") && e.getMessage().contains("nesterov"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> TrainConfig.from(
                KilnConfig.load(null, Map.of("kiln.train.optimizer.min-learning-rate", "1"))));
        assertTrue(e.getMessage().contains("min-learning-rate"), e.getMessage());
        assertThrows(InvalidConfigException.class, () -> KilnConfig.load(null, Map.of("kiln.train.stepz", "3")));
    }
}
