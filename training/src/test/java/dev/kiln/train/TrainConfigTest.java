package dev.kiln.train;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.train.parallel.EngineConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    @Test
    void referenceDefaultsAreValid() {
        TrainConfig c = TrainConfig.from(KilnConfig.load(null, Map.of()));
        assertEquals(1, c.parallel().workers());
        assertEquals(EngineConfig.OuterOptimizer.AVERAGE, c.parallel().outerOptimizer());
        assertEquals(16, c.globalBatch());
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
