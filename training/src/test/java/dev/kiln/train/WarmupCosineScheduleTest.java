package dev.kiln.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmupCosineScheduleTest {
    private final WarmupCosineSchedule s = new WarmupCosineSchedule(1e-3, 1e-4, 10, 110);

    @Test
    void warmsUpLinearlyFromZero() {
        assertEquals(1e-4, s.at(0), 1e-15);
        assertEquals(5e-4, s.at(4), 1e-15);
        assertEquals(1e-3, s.at(9), 1e-15);
    }

    @Test
    void decaysAlongACosineToTheMinimumAndStaysThere() {
        assertEquals(1e-3, s.at(10), 1e-15);
        assertEquals(0.5 * (1e-3 + 1e-4), s.at(60), 1e-12, "half-way down the cosine");
        assertEquals(1e-4, s.at(110), 1e-15);
        assertEquals(1e-4, s.at(5000), 1e-15);
        for (int i = 10; i < 110; i++) {
            assertTrue(s.at(i + 1) <= s.at(i), "monotone after warm-up at " + i);
        }
    }

    @Test
    void isWhatDl4jSeesAtAnIteration() {
        assertEquals(s.at(37), s.valueAt(37, 0), 0);
        assertEquals(s, s.clone());
    }
}
