package dev.kiln.evaluate;

import dev.kiln.common.config.InvalidConfigException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluateConfigTest {
    @Test
    void defaults() {
        EvaluateConfig c = EvalFixtures.config(Map.of());
        assertEquals(List.of("pretrain"), c.checkpoints());
        assertEquals(List.of("tokenized"), c.shards());
        assertEquals("validation", c.split());
        assertEquals(16, c.batchSize());
        assertEquals(List.of(EvaluateConfig.Baseline.UNIFORM, EvaluateConfig.Baseline.UNIGRAM, EvaluateConfig.Baseline.BIGRAM), c.baselines());
        assertTrue(c.estimateDiscount());
    }

    @Test
    void listsFromTheCommandLineAndAFixedDiscount() {
        EvaluateConfig c = EvalFixtures.config(Map.of("checkpoints", "a,b", "baselines.models", "bigram-kneser-ney",
                "baselines.bigram-discount", "0.75"));
        assertEquals(List.of("a", "b"), c.checkpoints());
        assertEquals(List.of(EvaluateConfig.Baseline.BIGRAM), c.baselines());
        assertEquals(0.75, c.bigramDiscount());
    }

    @Test
    void badValuesNameTheirKey() {
        assertBad(Map.of("split", "test"), "kiln.evaluate.split");
        assertBad(Map.of("batch-size", "0"), "kiln.evaluate.batch-size");
        assertBad(Map.of("checkpoints", "[]"), "kiln.evaluate.checkpoints");
        assertBad(Map.of("run-name", "../x"), "kiln.evaluate.run-name");
        assertBad(Map.of("baselines.models", "trigram"), "kiln.evaluate.baselines.models");
        assertBad(Map.of("baselines.bigram-discount", "0"), "kiln.evaluate.baselines.bigram-discount");
        assertBad(Map.of("baselines.bigram-discount", "1.5"), "kiln.evaluate.baselines.bigram-discount");
        assertBad(Map.of("shards", "a,a"), "kiln.evaluate.shards");
        assertBad(Map.of("batchsize", "3"), "kiln.evaluate.batchsize");
    }

    @Test
    void classifierAndGenerationParts() {
        EvaluateConfig c = EvalFixtures.config(Map.of());
        assertTrue(!c.classifier().enabled() && c.generation().enabled(), "generation is on by default, the classifier part off");
        assertEquals(16, c.generation().fromValidation());
        assertEquals(32, c.generation().decoding().newTokens(1000));
        assertTrue(!c.generation().decoding().doSample());
        EvaluateConfig on = EvalFixtures.config(Map.of("classifier.predictions", "a,b", "classifier.documents", "docs",
                "generation.from-validation", "0"));
        assertEquals(List.of("a", "b"), on.classifier().predictions());
        assertTrue(on.classifier().enabled() && !on.generation().enabled());
        assertBad(Map.of("classifier.predictions", "a"), "kiln.evaluate.classifier.documents");
        assertBad(Map.of("classifier.predictions", "a,a", "classifier.documents", "d"), "kiln.evaluate.classifier.predictions");
        assertBad(Map.of("generation.top-p", "0"), "kiln.evaluate.generation.top-p");
        assertBad(Map.of("generation.do-sample", "true", "generation.temperature", "0"), "kiln.evaluate.generation.temperature");
        assertBad(Map.of("generation.from-validation", "-1"), "kiln.evaluate.generation.from-validation");
        assertBad(Map.of("generation.max-new-tokens", "0"), "kiln.evaluate.generation.max-new-tokens");
    }

    @Test
    void perSourceGrouping() {
        SourceGroups d = EvalFixtures.config(Map.of()).perSource();
        assertEquals(new SourceGroups(SourceGroups.GroupBy.FOLDER, "", 30), d);
        SourceGroups p = EvalFixtures.config(Map.of("per-source.group-by", "pattern", "per-source.pattern", "/(\\d\\d\\d)\\d_",
                "per-source.max-groups", "5")).perSource();
        assertEquals(SourceGroups.GroupBy.PATTERN, p.groupBy());
        assertEquals("/(\\d\\d\\d)\\d_", p.pattern());
        assertEquals(5, p.maxGroups());
        assertBad(Map.of("per-source.group-by", "speaker"), "kiln.evaluate.per-source.group-by");
        assertBad(Map.of("per-source.group-by", "pattern"), "kiln.evaluate.per-source.pattern");
        assertBad(Map.of("per-source.group-by", "pattern", "per-source.pattern", "/data/"), "kiln.evaluate.per-source.pattern");
        assertBad(Map.of("per-source.group-by", "pattern", "per-source.pattern", "(unclosed"), "kiln.evaluate.per-source.pattern");
        assertBad(Map.of("per-source.max-groups", "0"), "kiln.evaluate.per-source.max-groups");
        assertBad(Map.of("per-source.groupby", "file"), "kiln.evaluate.per-source.groupby");
    }

    private static void assertBad(Map<String, String> o, String key) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> EvalFixtures.config(o));
        assertEquals(key, e.key(), e.getMessage());
    }
}
