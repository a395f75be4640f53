package dev.kiln.generate;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerationConfigTest {
    @Test
    void defaultsAreHuggingFacesGenerationConfig() {
        GenerationConfig c = TinyGpt.generation(Map.of());
        assertEquals(20, c.maxLength());
        assertNull(c.maxNewTokens());
        assertEquals(1, c.numReturnSequences());
        assertFalse(c.doSample());
        assertEquals(1.0, c.temperature());
        assertEquals(50, c.topK());
        assertEquals(1.0, c.topP());
        assertEquals(1.0, c.repetitionPenalty());
        assertEquals("pretrain", c.checkpoint()); // kiln.train.output
        assertNull(c.prompts());
        assertNull(c.tokenizer());
    }

    @Test
    void maxNewTokensOverridesMaxLength() {
        assertEquals(15, TinyGpt.generation(Map.of()).newTokens(5));
        assertEquals(0, TinyGpt.generation(Map.of()).newTokens(25));
        assertEquals(3, TinyGpt.generation(Map.of("max-length", "8")).newTokens(5));
        assertEquals(4, TinyGpt.generation(Map.of("max-new-tokens", "4")).newTokens(50));
    }

    @Test
    void theCheckpointFollowsTheTrainingOutput() {
        GenerationConfig c = GenerationConfig.from(KilnConfig.load(null,
                Map.of("kiln.train.output", "/runs/a")));
        assertEquals("/runs/a", c.checkpoint());
    }

    private static String refused(Map<String, String> overrides) {
        return assertThrows(InvalidConfigException.class, () -> TinyGpt.generation(overrides)).getMessage();
    }

    @Test
    void invalidCombinationsAreRefusedNamingTheKey() {
        String m = refused(Map.of("do-sample", "true", "temperature", "0"));
        assertTrue(m.contains("kiln.generate.temperature") && m.contains("> 0"), m);
        assertTrue(refused(Map.of("do-sample", "true", "temperature", "-1")).contains("kiln.generate.temperature"));
        m = refused(Map.of("num-return-sequences", "3"));
        assertTrue(m.contains("kiln.generate.num-return-sequences") && m.contains("greedy"), m);
        for (String p : new String[]{"0", "-0.1", "1.5"}) {
            m = refused(Map.of("do-sample", "true", "top-p", p));
            assertTrue(m.contains("kiln.generate.top-p") && m.contains("(0, 1]"), m);
        }
        assertTrue(refused(Map.of("top-k", "-1")).contains("kiln.generate.top-k"));
        assertTrue(refused(Map.of("repetition-penalty", "0")).contains("kiln.generate.repetition-penalty"));
        assertTrue(refused(Map.of("max-new-tokens", "0")).contains("kiln.generate.max-new-tokens"));
        assertTrue(refused(Map.of("max-length", "0")).contains("kiln.generate.max-length"));
    }

    @Test
    void greedyIgnoresTheSamplingKnobsAndSamplingAcceptsTheirBounds() {
        assertEquals(0.0, TinyGpt.generation(Map.of("temperature", "0")).temperature());
        assertEquals(List.of("temperature", "top-p"), TinyGpt.generation(Map.of("temperature", "0", "top-p", "0.5"))
                .ignoredByGreedy());
        assertEquals(List.of(), TinyGpt.generation(Map.of()).ignoredByGreedy());
        GenerationConfig c = TinyGpt.generation(Map.of("do-sample", "true", "top-p", "1", "num-return-sequences", "4",
                "temperature", "0.7", "top-k", "0"));
        assertEquals(4, c.numReturnSequences());
        assertEquals(0, c.topK());
    }
}
