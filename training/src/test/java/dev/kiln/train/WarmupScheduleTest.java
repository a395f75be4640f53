package dev.kiln.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The two schedules share {@link WarmupSchedule}; their class names are a stored format. The resource is a DL4J
 * configuration JSON saved by the two stand-alone classes they replaced (cosine on the updater of every layer,
 * linear on the head's): it still loads, into the same schedules, and a configuration saved now is the same JSON.
 */
class WarmupScheduleTest {
    static final String SAVED = "warmup-schedules-configuration.json";

    @Test
    void aConfigurationSavedBeforeTheSharedBaseClassLoadsIntoTheSameSchedules() throws IOException {
        String saved = resource();
        ComputationGraphConfiguration c = ComputationGraphConfiguration.fromJson(saved);
        ISchedule cosine = schedule(c, "dense");
        ISchedule linear = schedule(c, "head");
        assertEquals(new WarmupCosineSchedule(3e-4, 3e-5, 10, 300), cosine);
        assertEquals(new WarmupLinearSchedule(1e-3, 1e-5, 5, 100), linear);
        assertEquals(new WarmupCosineSchedule(3e-4, 3e-5, 10, 300).at(123), cosine.valueAt(123, 0), 0.0);
        assertEquals(new WarmupLinearSchedule(1e-3, 1e-5, 5, 100).at(50), linear.valueAt(50, 0), 0.0);
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.readTree(saved), json.readTree(c.toJson()), "saved again, the configuration is the same JSON");
    }

    @Test
    void theSameFourNumbersInTheOtherShapeAreAnotherSchedule() {
        WarmupSchedule cosine = new WarmupCosineSchedule(1.0, 0.1, 10, 110);
        WarmupSchedule linear = new WarmupLinearSchedule(1.0, 0.1, 10, 110);
        assertNotEquals(cosine, linear);
        assertEquals(cosine.at(5), linear.at(5), 0.0, "the same warm-up");
        assertEquals(0.55, linear.at(60), 1e-12);
        assertEquals(0.55, cosine.at(60), 1e-12, "both pass the mid-point half-way down");
        assertNotEquals(cosine.at(30), linear.at(30));
    }

    static ISchedule schedule(ComputationGraphConfiguration c, String layer) {
        LayerVertex vertex = (LayerVertex) c.getVertices().get(layer);
        BaseLayer l = (BaseLayer) vertex.getLayerConf().getLayer();
        return ((Adam) l.getIUpdater()).getLearningRateSchedule();
    }

    static String resource() throws IOException {
        try (InputStream in = WarmupScheduleTest.class.getResourceAsStream(SAVED)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
