package dev.kiln.train.parallel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AveragingTest {
    @Test
    void sumsAndDivides() {
        float[] sum = Averaging.addInto(new float[]{1, 2, 3}, new float[]{3, 2, 1});
        assertArrayEquals(new float[]{2, 2, 2}, Averaging.divide(sum, 2));
        assertThrows(IllegalArgumentException.class, () -> Averaging.addInto(new float[2], new float[3]));
    }

    @Test
    void nesterovWithUnitRateAndNoMomentumIsPlainAveraging() {
        float[] global = {1f, -2f};
        float[] momentum = new float[2];
        Averaging.nesterovStep(global, new float[]{0.5f, 0f}, momentum, 1.0, 0.0);
        assertArrayEquals(new float[]{0.5f, 0f}, global, 1e-7f);
    }

    @Test
    void nesterovMatchesPytorchSgdByHand() {
        // PyTorch SGD(nesterov): buf = mu*buf + g; p -= lr * (g + mu*buf). Outer gradient g = global - mean.
        float[] global = {1.0f};
        float[] momentum = {0.0f};
        Averaging.nesterovStep(global, new float[]{0.8f}, momentum, 0.7, 0.9); // g = 0.2, buf = 0.2
        assertArrayEquals(new float[]{0.2f}, momentum, 1e-6f);
        assertArrayEquals(new float[]{1.0f - 0.7f * (0.2f + 0.9f * 0.2f)}, global, 1e-6f);
        Averaging.nesterovStep(global, new float[]{global[0] - 0.1f}, momentum, 0.7, 0.9); // g = 0.1, buf = 0.28
        assertArrayEquals(new float[]{0.28f}, momentum, 1e-6f);
    }
}
