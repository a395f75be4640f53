package dev.kiln.model;

import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * Runtime of {@link ClassifierHead}. With B sequences, width C, T positions and K classes:
 * <pre>
 *   L_b   = sum_t mask[b, t]                      lengths from the features mask (a prefix of ones)
 *   h_b   = x[b, :, L_b - 1]                      LAST   [B, C]
 *         = mean_{t < L_b} x[b, :, t]             MEAN
 *   z     = h W + b                                [B, K]
 *   p     = softmax(z)                             [B, K]
 *   loss  = sum_b w_b * sum_k -y[b, k] log p[b, k]   w_b = sum_k y[b, k] * classWeight_k (1 without weights)
 *   dz    = w_b * (p_b * sum_k y[b, k] - y_b)     [B, K]   (p - y for one-hot labels)
 *   dW    = h^T dz,  db = 1^T dz,  dh = dz W^T
 *   dx[b, :, L_b - 1] = dh_b (LAST),  dx[b, :, t] = dh_b / L_b for t < L_b (MEAN); 0 elsewhere
 * </pre>
 * Conventions are DL4J's output layers': the gradient is that of the loss summed over the B sequences (DL4J's
 * updater divides by B), the score is that sum divided by B plus the regularisation term.
 */
public class ClassifierHeadLayer extends BaseOutputLayer<ClassifierHead> {
    private static final String W = DefaultParamInitializer.WEIGHT_KEY;
    private static final String BIAS = DefaultParamInitializer.BIAS_KEY;

    public ClassifierHeadLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.FEED_FORWARD;
    }

    /** The length of every sequence of the input, from the features mask (T for all without one). */
    int[] lengths() {
        long b = input.size(0), t = input.size(2);
        int[] out = new int[(int) b];
        if (maskArray == null) {
            Arrays.fill(out, (int) t);
            return out;
        }
        if (maskArray.size(0) != b || maskArray.length() != b * t) {
            throw new IllegalArgumentException("features mask " + Arrays.toString(maskArray.shape())
                    + " does not match the input [" + b + ", C, " + t + "] " + layerId());
        }
        float[] m = maskArray.dup('c').reshape(b * t).toFloatVector();
        for (int i = 0; i < b; i++) {
            int len = 0;
            while (len < t && m[(int) (i * t + len)] != 0) {
                len++;
            }
            for (int j = len; j < t; j++) {
                if (m[(int) (i * t + j)] != 0) {
                    throw new IllegalArgumentException("the mask of sequence " + i + " is not a prefix of ones "
                            + "(position " + j + " is set after a zero at " + len + ") " + layerId());
                }
            }
            if (len == 0) {
                throw new IllegalArgumentException("sequence " + i + " has length 0 (an empty mask row) " + layerId());
            }
            out[i] = len;
        }
        return out;
    }

    /** The pooled hidden states {@code [B, C]}. */
    INDArray pool(int[] lengths, LayerWorkspaceMgr mgr, ArrayType type) {
        long b = input.size(0), c = input.size(1);
        INDArray h = mgr.createUninitialized(type, input.dataType(), new long[]{b, c}, 'c');
        for (int i = 0; i < b; i++) {
            INDArray row = h.getRow(i);
            if (layerConf().getPooling() == ClassifierHead.Pooling.LAST) {
                row.assign(input.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.point(lengths[i] - 1)));
            } else {
                row.assign(input.get(new INDArrayIndex[]{NDArrayIndex.point(i), NDArrayIndex.all(),
                        NDArrayIndex.interval(0, lengths[i])}).mean(1));
            }
        }
        return h;
    }

    /** Softmax probabilities {@code [B, K]} of the pooled states, and each row's weighted loss when labels are set. */
    private double[][] forward(INDArray h, boolean training, LayerWorkspaceMgr mgr, ArrayType type, INDArray pOut,
                               double[] rowLoss) {
        INDArray w = getParamWithNoise(W, training, mgr);                                  // [C, K]
        INDArray bias = getParamWithNoise(BIAS, training, mgr);                            // [1, K]
        long b = h.size(0), k = w.size(1);
        INDArray z = mgr.createUninitialized(type, h.dataType(), new long[]{b, k}, 'c');
        Nd4j.gemm(h, w, z, false, false, 1.0, 0.0);
        z.addiRowVector(bias.reshape(1, k));
        double[][] zs = z.toDoubleMatrix();
        double[][] y = labels == null ? null : labels.toDoubleMatrix();
        double[] weights = layerConf().getClassWeights();
        for (int i = 0; i < b; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double zi : zs[i]) {
                max = Math.max(max, zi);
            }
            double sum = 0;
            for (double zi : zs[i]) {
                sum += Math.exp(zi - max);
            }
            double logSum = max + Math.log(sum);
            if (rowLoss != null && y != null) {
                double loss = 0, wb = 0;
                for (int j = 0; j < k; j++) {
                    loss -= y[i][j] * (zs[i][j] - logSum);
                    wb += y[i][j] * (weights == null ? 1.0 : weights[j]);
                }
                rowLoss[i] = wb * loss;
            }
            for (int j = 0; j < k; j++) {
                zs[i][j] = Math.exp(zs[i][j] - logSum);                                   // p, in place
            }
        }
        if (pOut != null) {
            pOut.assign(Nd4j.create(zs).castTo(pOut.dataType()));
        }
        return zs;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        checkLabels();
        long b = input.size(0), c = input.size(1), t = input.size(2);
        int[] lengths = lengths();
        INDArray h = pool(lengths, mgr, ArrayType.BP_WORKING_MEM);                         // [B, C]
        double[][] p = forward(h, true, mgr, ArrayType.BP_WORKING_MEM, null, new double[(int) b]);
        double[][] y = labels.toDoubleMatrix();
        double[] weights = layerConf().getClassWeights();
        long k = p[0].length;
        for (int i = 0; i < b; i++) {
            double mass = 0, wb = 0;
            for (int j = 0; j < k; j++) {
                mass += y[i][j];
                wb += y[i][j] * (weights == null ? 1.0 : weights[j]);
            }
            for (int j = 0; j < k; j++) {
                p[i][j] = wb * (p[i][j] * mass - y[i][j]);                                 // dz, in place
            }
        }
        INDArray dz = Nd4j.create(p).castTo(input.dataType());                              // [B, K]
        INDArray w = getParamWithNoise(W, true, mgr);
        Nd4j.gemm(h, dz, gradientViews.get(W), true, false, 1.0, 0.0);                       // [C, K]
        gradientViews.get(BIAS).assign(dz.sum(0).reshape(gradientViews.get(BIAS).shape()));
        INDArray dh = dz.mmul(w.transpose());                                               // [B, C]
        INDArray dx = mgr.create(ArrayType.ACTIVATION_GRAD, input.dataType(), new long[]{b, c, t}, 'c');
        for (int i = 0; i < b; i++) {
            INDArray dhRow = dh.getRow(i);
            if (layerConf().getPooling() == ClassifierHead.Pooling.LAST) {
                dx.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.point(lengths[i] - 1)).assign(dhRow);
            } else {
                dx.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.interval(0, lengths[i]))
                        .addiColumnVector(dhRow.reshape(c, 1).div(lengths[i]));
            }
        }
        Gradient gradient = new DefaultGradient();
        gradient.gradientForVariable().put(W, gradientViews.get(W));
        gradient.gradientForVariable().put(BIAS, gradientViews.get(BIAS));
        this.gradient = gradient;
        weightNoiseParams.clear();
        return new Pair<>(gradient, dx);
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr mgr) {
        double[] rowLoss = rowLosses(training, mgr);
        double s = 0;
        for (double l : rowLoss) {
            s += l;
        }
        if (conf().isMiniBatch()) {
            s /= getInputMiniBatchSize();
        }
        s += fullNetRegTerm;
        this.score = s;
        return s;
    }

    /** {@code [B, 1]}: each sequence's (weighted) loss plus the regularisation term. */
    @Override
    public INDArray computeScoreForExamples(double fullNetRegTerm, LayerWorkspaceMgr mgr) {
        double[] rowLoss = rowLosses(false, mgr);
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), rowLoss.length, 1);
        for (int i = 0; i < rowLoss.length; i++) {
            out.putScalar(i, 0, rowLoss[i] + fullNetRegTerm);
        }
        return out;
    }

    private double[] rowLosses(boolean training, LayerWorkspaceMgr mgr) {
        if (input == null || labels == null) {
            throw new IllegalStateException("Cannot calculate score without input and labels " + layerId());
        }
        checkLabels();
        INDArray h = pool(lengths(), mgr, ArrayType.FF_WORKING_MEM);
        double[] rowLoss = new double[(int) input.size(0)];
        forward(h, training, mgr, ArrayType.FF_WORKING_MEM, null, rowLoss);
        return rowLoss;
    }

    @Override
    public void computeGradientAndScore(LayerWorkspaceMgr mgr) {
        if (input == null || labels == null) {
            return;
        }
        backpropGradient(null, mgr);
        computeScore(0.0, true, mgr);
    }

    /** Inference: class probabilities {@code [B, K]}. */
    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        INDArray h = pool(lengths(), mgr, ArrayType.FF_WORKING_MEM);
        INDArray p = mgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(),
                new long[]{input.size(0), layerConf().getNOut()}, 'c');
        forward(h, training, mgr, ArrayType.FF_WORKING_MEM, p, null);
        return p;
    }

    /** Logits {@code [B, K]}. */
    @Override
    protected INDArray preOutput2d(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        INDArray h = pool(lengths(), mgr, ArrayType.FF_WORKING_MEM);
        return h.mmul(getParamWithNoise(W, training, mgr)).addiRowVector(getParamWithNoise(BIAS, training, mgr));
    }

    @Override
    protected INDArray getLabels2d(LayerWorkspaceMgr mgr, ArrayType arrayType) {
        return labels;
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState state, int minibatchSize) {
        this.maskArray = maskArray; // the features mask [B, T]: the sequences' lengths
        this.maskState = state;
        return null; // the last layer: nothing downstream needs a mask
    }

    @Override
    public void setMaskArray(INDArray maskArray) {
        if (maskArray != null && (maskArray.rank() != 2 || maskArray.size(0) == 0)) {
            throw new IllegalArgumentException("the classifier's mask must be [B, T], got rank " + maskArray.rank()
                    + " " + layerId());
        }
        this.maskArray = maskArray;
    }

    private void checkLabels() {
        long k = layerConf().getNOut();
        if (labels.rank() != 2 || labels.size(0) != input.size(0) || labels.size(1) != k) {
            throw new IllegalArgumentException("labels must be [B, K] = [" + input.size(0) + ", " + k + "], got "
                    + Arrays.toString(labels.shape()) + " " + layerId());
        }
    }
}
