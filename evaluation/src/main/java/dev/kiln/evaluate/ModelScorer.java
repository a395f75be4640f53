package dev.kiln.evaluate;

import dev.kiln.model.GptModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * A GPT checkpoint as a {@link TokenScorer}, through the model's one contract: ids {@code [B, 1, T]} in,
 * next-token probabilities {@code [B, V, T]} out ({@code output(false, inputs)[0]}). Every forward pass has the
 * same shape {@code [batchSize, 1, T]}: a short batch is filled with rows of end-of-text that are not scored, so
 * the arithmetic a window gets never depends on the batch it happens to be in. Not thread-safe (one per task).
 */
public final class ModelScorer implements TokenScorer {
    private final ComputationGraph model;
    private final int batchSize;
    private final int contextLength;
    private final int endOfText;
    private final double[] flat;

    public ModelScorer(ComputationGraph model, int batchSize, int contextLength, int endOfText) {
        this.model = model;
        this.batchSize = batchSize;
        this.contextLength = contextLength;
        this.endOfText = endOfText;
        this.flat = new double[batchSize * contextLength];
    }

    @Override
    public void score(List<RollingWindows.Window> windows, double[][] out) {
        if (windows.size() > batchSize) {
            throw new IllegalArgumentException(windows.size() + " windows in a batch of " + batchSize);
        }
        Arrays.fill(flat, endOfText);
        for (int i = 0; i < windows.size(); i++) {
            int[] input = windows.get(i).input();
            for (int j = 0; j < contextLength; j++) {
                flat[i * contextLength + j] = input[j];
            }
        }
        INDArray inputs = Nd4j.create(flat, new long[]{batchSize, 1, contextLength}, model.getConfiguration().getDataType());
        INDArray p = model.output(false, inputs)[0]; // [B, V, T]
        for (int i = 0; i < windows.size(); i++) {
            RollingWindows.Window w = windows.get(i);
            for (int j = w.from(); j < w.to(); j++) {
                // Same floor as GptModel.meanLoss: a probability that underflowed to 0 costs ~745 nats, not infinity.
                out[i][j] = Math.log(Math.max(p.getDouble(i, w.target()[j], j), Double.MIN_VALUE));
            }
        }
    }

    /** The ids of {@link GptModel#INPUT} the model expects: its context length. */
    public int contextLength() {
        return contextLength;
    }
}
