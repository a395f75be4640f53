package dev.kiln.evaluate.classify;

import dev.kiln.metrics.Prediction;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictionsJsonlTest {
    @Test
    void readsTheFineTunesFormat() throws Exception {
        String jsonl = """
                {"id": "a1", "label": "spam", "predicted": "spam", "probabilities": {"spam": 0.9, "ham": 0.1}}

                {"id": "a2", "label": "ham", "predicted": "spam", "probabilities": {"ham": 0.4, "spam": 0.6}}
                {"id": "a3", "label": "ham", "predicted": "ham"}
                """;
        List<Prediction> p = PredictionsJsonl.read(new StringReader(jsonl), "preds.jsonl");
        assertEquals(3, p.size());
        assertEquals(new Prediction("a2", "ham", "spam", Map.of("ham", 0.4, "spam", 0.6)), p.get(1));
        assertTrue(p.get(2).probabilities().isEmpty());
    }

    @Test
    void badLinesNameTheFileAndLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PredictionsJsonl.read(
                new StringReader("{\"id\": \"a\", \"label\": \"x\", \"predicted\": \"x\"}\n{\"id\": \"b\", \"label\": \"x\"}\n"), "p.jsonl"));
        assertTrue(e.getMessage().startsWith("p.jsonl:2: "), e.getMessage());
        assertTrue(e.getMessage().contains("predicted"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PredictionsJsonl.read(new StringReader(
                "{\"id\": \"a\", \"label\": \"x\", \"predicted\": \"x\", \"probabilities\": {\"x\": 1.5}}"), "p"));
    }
}
