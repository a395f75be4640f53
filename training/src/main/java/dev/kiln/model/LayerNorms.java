package dev.kiln.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** LayerNorm over the channels of rows {@code [N, C]}, forward and backward, as ND4J ops. */
final class LayerNorms {
    /** GPT-2's (and PyTorch's) epsilon, added to the variance. */
    static final double EPSILON = 1e-5;

    /** The output and what the backward needs: normalised rows {@code xhat [N, C]} and {@code 1/std [N, 1]}. */
    record Norm(INDArray out, INDArray xhat, INDArray rstd) {
    }

    private LayerNorms() {
    }

    /** {@code (x - mean) / sqrt(var + eps) * gain + bias}, per row. */
    static Norm forward(INDArray x, INDArray gain, INDArray bias) {
        INDArray xc = x.subColumnVector(x.mean(true, 1));                                    // [N, C]
        INDArray rstd = Transforms.pow(xc.mul(xc).mean(true, 1).addi(EPSILON), -0.5, false); // [N, 1]
        INDArray xhat = xc.muliColumnVector(rstd);
        return new Norm(xhat.mulRowVector(gain).addiRowVector(bias), xhat, rstd);
    }

    /**
     * For incoming {@code dOut [N, C]}: writes the gain and bias gradients and returns dx,
     * {@code rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))} with {@code dxhat = dOut * gain}.
     */
    static INDArray backward(INDArray dOut, Norm n, INDArray gain, INDArray dGain, INDArray dBias) {
        HandWrittenLayerImpl.sumRows(dOut.mul(n.xhat()), dGain);
        HandWrittenLayerImpl.sumRows(dOut, dBias);
        INDArray dxhat = dOut.mulRowVector(gain);                                           // [N, C]
        INDArray meanDxhat = dxhat.mean(true, 1);                                            // [N, 1]
        INDArray meanDxhatXhat = dxhat.mul(n.xhat()).mean(true, 1);                          // [N, 1]
        return dxhat.subiColumnVector(meanDxhat).subi(n.xhat().mulColumnVector(meanDxhatXhat)).muliColumnVector(n.rstd());
    }
}
