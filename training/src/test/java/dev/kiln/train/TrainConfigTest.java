package dev.kiln.train;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.finetune.FinetuneConfig;
import dev.kiln.train.parallel.EngineConfig;
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
        assertEquals(EngineConfig.OuterOptimizer.AVERAGE, c.parallel().outerOptimizer());
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
    void pretrainingAndFineTuningParseTheEngineKeysTheSameWay() {
        Map<String, String> o = Map.of("kiln.train.batch-size", "7", "kiln.train.parallel.outer-optimizer", "nesterov",
                "kiln.finetune.checkpoint", "parent", "kiln.finetune.batch-size", "9", "kiln.finetune.parallel.workers", "3",
                "kiln.finetune.optimizer.grad-clip", "0.5");
        EngineConfig train = TrainConfig.from(KilnConfig.load(null, o)).engine();
        EngineConfig finetune = FinetuneConfig.from(KilnConfig.load(null, o)).engine();
        assertEquals(7, train.batchSize());
        assertEquals(EngineConfig.OuterOptimizer.NESTEROV, train.parallel().outerOptimizer());
        assertEquals(9, finetune.batchSize());
        assertEquals(27, finetune.globalBatch());
        assertEquals(0.5, finetune.optimizer().gradClip());
        // Fine-tuning's outer settings come from reference.conf, as pre-training's do.
        assertEquals(EngineConfig.OuterOptimizer.AVERAGE, finetune.parallel().outerOptimizer());
        assertEquals(train.parallel().outerLearningRate(), finetune.parallel().outerLearningRate());
        assertEquals(train.parallel().outerMomentum(), finetune.parallel().outerMomentum());

        // Classify checkpoints keep no outer momentum: nesterov is refused there, naming the key.
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> FinetuneConfig.from(KilnConfig.load(null,
                Map.of("kiln.finetune.checkpoint", "parent", "kiln.finetune.parallel.outer-optimizer", "nesterov"))));
        assertTrue(e.getMessage().contains("kiln.finetune.parallel.outer-optimizer"), e.getMessage());
        e = assertThrows(InvalidConfigException.class, () -> TrainConfig.from(
                KilnConfig.load(null, Map.of("kiln.train.steps", "10", "kiln.train.optimizer.warmup-steps", "11"))));
        assertTrue(e.getMessage().contains("kiln.train.optimizer.warmup-steps"), e.getMessage());
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
