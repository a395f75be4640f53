package dev.kiln.train.parallel;

import dev.kiln.model.DoublePrecisionTest;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.NoOp;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The norm the clipping threshold is compared with is the norm of the gradient of the mean per-token loss, measured
 * by central differences of {@link GptModel#meanLoss} over every parameter: the same at batch 1 and batch 4 (DL4J's
 * raw gradient is summed over the minibatch, which once made the logged norm B times too large).
 */
class GlobalNormClippingTest extends DoublePrecisionTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 4})
    void normIsThatOfTheMeanPerTokenLossGradient(int batch) {
        GptConfig cfg = new GptConfig(7, 4, 4, 1, 2, 2);
        ComputationGraph model = GptModel.build(cfg, new NoOp(), 0.0, 77, DataType.DOUBLE);
        int[][] rows = randomRows(batch, cfg.contextLength(), cfg.vocabSize(), batch);
        INDArray params = model.params();
        INDArray original = params.dup();
        double h = 1e-6;
        double squares = 0;
        for (long i = 0; i < params.length(); i++) {
            double p = original.getDouble(i);
            params.putScalar(i, p + h);
            double up = GptModel.meanLoss(model, rows);
            params.putScalar(i, p - h);
            double down = GptModel.meanLoss(model, rows);
            params.putScalar(i, p);
            double g = (up - down) / (2 * h);
            squares += g * g;
        }
        double finiteDifferenceNorm = Math.sqrt(squares);

        GlobalNormClipping clipping = new GlobalNormClipping(0.0, cfg.contextLength());
        model.setListeners(clipping);
        model.fit(GptModel.dataSet(rows, DataType.DOUBLE));
        assertEquals(1.0, clipping.lastNorm() / finiteDifferenceNorm, 1e-6,
                "logged norm " + clipping.lastNorm() + " vs finite differences " + finiteDifferenceNorm);
    }
}
