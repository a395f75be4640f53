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
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Runtime of {@link FusedLmHead}. With {@code N = B*T} rows (row {@code b*T + t}), width C and vocabulary V:
 * <pre>
 *   for each block of R rows:       x_blk [R, C]
 *     z   = x_blk W + b             [R, V]   (one GEMM; the only logits ever held: R x V, not N x V)
 *     p   = softmax(z), in place    [R, V]
 *     loss -= log p[r, y_r]                  (exact log-sum-exp for a row whose p underflows)
 *     dz  = p - onehot(y), in place [R, V]   (gradient of the summed loss; labels stay ids, no one-hot array)
 *     dW += x_blk^T dz              [C, V]   (GEMM)
 *     db += 1^T dz                  [1, V]   (with a bias; GEMM with a ones row: far cheaper than a column reduction)
 *     dx_blk = dz W^T               [R, C]   (GEMM)
 * </pre>
 * Conventions are DL4J's output layers': the gradient is that of the loss summed over all N rows (DL4J's updater
 * divides by the minibatch size B), the score is that sum divided by B plus the regularisation term.
 *
 * <p>Tied ({@link TiedLmHead}): {@code W} is the token embedding's {@code wte [V, C]} read transposed, there is no
 * bias, and {@code dW} is computed as {@code dz^T x_blk [V, C]} straight into the embedding's gradient view: the
 * first block ASSIGNS (beta 0), so this head must run before the embedding's backward pass, which adds
 * (see {@link TokenEmbedding}). A graph back-propagates from its output down, which guarantees that order.
 *
 * <p>DL4J's {@code ComputationGraph} back-propagates first and asks for the score afterwards, on the same input and
 * labels: the loss of the backward pass is kept for that call, so a training step computes the logits once.
 */
public class FusedLmHeadLayer extends BaseOutputLayer<FusedLmHead> {
    private static final String W = DefaultParamInitializer.WEIGHT_KEY;
    private static final String BIAS = DefaultParamInitializer.BIAS_KEY;
    /** Below this probability the row's loss is recomputed as log-sum-exp in double (float p may have underflowed). */
    private static final double SMALLEST_TRUSTED_P = 1e-30;

    // The loss of the last backward pass and the arrays it was computed on (identity only, never read).
    private transient INDArray lossInput;
    private transient INDArray lossLabels;
    private transient INDArray lossMask;
    private double lossSum = Double.NaN;
    // The tied head's embedding (null when untied), set by GptModel.tie after every graph is made or loaded.
    private transient TokenEmbedding.Impl embedding;

    public FusedLmHeadLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** Ties this head to {@code wte} (a {@link TiedLmHead}'s runtime only); idempotent. */
    void tie(TokenEmbedding.Impl wte) {
        if (!tied()) {
            throw new IllegalStateException("an untied head (" + layerConf().getClass().getSimpleName() + ") cannot be tied " + layerId());
        }
        this.embedding = wte;
        wte.headWritesFirst(true);
    }

    boolean tied() {
        return layerConf() instanceof TiedLmHead;
    }

    /** Whether the head adds its own bias {@code b [1, V]} (untied heads of earlier checkpoints; never tied). */
    private boolean biased() {
        return !tied() && layerConf().hasBias();
    }

    /** The tied embedding's runtime; fails when {@link GptModel#tie} was not called on this graph. */
    private TokenEmbedding.Impl embedding() {
        if (embedding == null) {
            throw new IllegalStateException("tied LM head without its embedding: call GptModel.tie(graph) after making or "
                    + "loading the graph " + layerId());
        }
        return embedding;
    }

    /** {@code W [C, V]} untied, {@code wte [V, C]} tied (used transposed). */
    private INDArray weights(boolean training, LayerWorkspaceMgr mgr) {
        return tied() ? embedding().weights() : getParamWithNoise(W, training, mgr);
    }

    @Override
    public Type type() {
        return Type.RECURRENT;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        long b = input.size(0), c = input.size(1), t = input.size(2);
        INDArray x2d = rows(input, mgr, ArrayType.BP_WORKING_MEM);                         // [N, C]
        INDArray dx2d = mgr.createUninitialized(ArrayType.BP_WORKING_MEM, input.dataType(), b * t, c);
        lossSum = pass(x2d, labelIds(), rowMask(), dx2d, null, true, mgr);
        lossInput = input;
        lossLabels = labels;
        lossMask = maskArray;

        Gradient gradient = new DefaultGradient();
        if (!tied()) { // tied: the gradient went into the embedding's view, which that layer reports
            gradient.gradientForVariable().put(W, gradientViews.get(W));
        }
        if (biased()) {
            gradient.gradientForVariable().put(BIAS, gradientViews.get(BIAS));
        }
        this.gradient = gradient;
        INDArray epsilonOut = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), new long[]{b, c, t}, 'c');
        epsilonOut.assign(dx2d.reshape(b, t, c).permute(0, 2, 1));                    // [B, C, T]
        weightNoiseParams.clear();
        return new Pair<>(gradient, epsilonOut);
    }

    @Override
    public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr mgr) {
        if (input == null || labels == null) {
            throw new IllegalStateException("Cannot calculate score without input and labels " + layerId());
        }
        double sum;
        if (input == lossInput && labels == lossLabels && maskArray == lossMask && !Double.isNaN(lossSum)) {
            sum = lossSum;
        } else {
            sum = pass(rows(input, mgr, ArrayType.FF_WORKING_MEM), labelIds(), rowMask(), null, null, training, mgr);
        }
        forgetLoss();
        double s = sum;
        if (conf().isMiniBatch()) {
            s /= getInputMiniBatchSize();
        }
        s += fullNetRegTerm;
        this.score = s;
        return s;
    }

    /** {@code [B, 1]}: each sequence's loss summed over its positions, plus the regularisation term. */
    @Override
    public INDArray computeScoreForExamples(double fullNetRegTerm, LayerWorkspaceMgr mgr) {
        if (input == null || labels == null) {
            throw new IllegalStateException("Cannot calculate score without input and labels " + layerId());
        }
        long b = input.size(0), t = input.size(2);
        double[] rowLoss = new double[Math.toIntExact(b * t)];
        pass(rows(input, mgr, ArrayType.FF_WORKING_MEM), labelIds(), rowMask(), null, rowLoss, false, mgr);
        double[] perExample = new double[(int) b];
        for (int r = 0; r < rowLoss.length; r++) {
            perExample[(int) (r / t)] += rowLoss[r];
        }
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), b, 1);
        for (int i = 0; i < perExample.length; i++) {
            out.putScalar(i, 0, perExample[i] + fullNetRegTerm);
        }
        return out;
    }

    @Override
    public void computeGradientAndScore(LayerWorkspaceMgr mgr) {
        if (input == null || labels == null) {
            return;
        }
        backpropGradient(null, mgr);
        computeScore(0.0, true, mgr);
    }

    /** Inference: next-token probabilities {@code [B, V, T]}, as DL4J's RnnOutputLayer with a softmax returns them. */
    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        long b = input.size(0), t = input.size(2);
        INDArray p = preOutput2d(training, mgr);                                           // [N, V]
        Nd4j.exec(new SoftMax(p, p, 1));
        long v = p.size(1);
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, p.dataType(), new long[]{b, v, t}, 'c');
        out.assign(p.reshape(b, t, v).permute(0, 2, 1));
        return out;
    }

    /** Logits {@code [N, V]}, rows {@code b*T + t}. */
    @Override
    protected INDArray preOutput2d(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        boolean tied = tied();
        INDArray w = weights(training, mgr);
        INDArray x2d = rows(input, mgr, ArrayType.FF_WORKING_MEM);
        INDArray z = mgr.createUninitialized(ArrayType.FF_WORKING_MEM, x2d.dataType(), x2d.size(0), w.size(tied ? 0 : 1));
        Nd4j.gemm(x2d, w, z, false, tied, 1.0, 0.0);
        return biased() ? z.addiRowVector(getParamWithNoise(BIAS, training, mgr)) : z;
    }

    /** Labels as a column {@code [N, 1]} of ids, rows {@code b*T + t}. */
    @Override
    protected INDArray getLabels2d(LayerWorkspaceMgr mgr, ArrayType arrayType) {
        return mgr.leverageTo(arrayType, labels.dup('c').reshape(labels.length(), 1));
    }

    @Override
    public void setMaskArray(INDArray maskArray) {
        if (maskArray != null && maskArray.rank() != 2 && maskArray.rank() != 3) {
            throw new IllegalArgumentException("label mask must be [B, T] or [B, 1, T], got rank " + maskArray.rank()
                    + " " + layerId());
        }
        this.maskArray = maskArray;
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState state, int minibatchSize) {
        return null; // the last layer: nothing downstream needs a mask
    }

    @Override
    public void clear() {
        super.clear();
        forgetLoss();
    }

    private void forgetLoss() {
        lossInput = null;
        lossLabels = null;
        lossMask = null;
        lossSum = Double.NaN;
    }

    /**
     * The fused pass (see the class comment). Returns the loss summed over the rows (nats, weighted by the mask).
     * With {@code dx2d} set, also writes dW and db into this layer's gradient views and dx into {@code dx2d};
     * with {@code rowLoss} set, records each row's loss there.
     */
    private double pass(INDArray x2d, int[] ids, float[] mask, INDArray dx2d, double[] rowLoss, boolean training,
                        LayerWorkspaceMgr mgr) {
        boolean tied = tied();
        INDArray w = weights(training, mgr);                                               // [C, V], tied [V, C]
        INDArray bias = biased() ? getParamWithNoise(BIAS, training, mgr) : null;          // [1, V] or none
        long n = x2d.size(0);
        long v = w.size(tied ? 0 : 1);
        DataType dt = x2d.dataType();
        int block = (int) Math.min(layerConf().getBlockRows(), n);
        ArrayType scratch = dx2d != null ? ArrayType.BP_WORKING_MEM : ArrayType.FF_WORKING_MEM;
        INDArray zBlock = mgr.createUninitialized(scratch, dt, block, v);
        INDArray ones = dx2d != null && bias != null ? mgr.create(scratch, dt, 1, block).assign(1.0) : null;
        INDArray dW = dx2d == null ? null : tied ? embedding().weightGradient() : gradientViews.get(W);
        INDArray dB = dx2d != null && bias != null ? gradientViews.get(BIAS).reshape(1, v) : null; // [1, V] view of the rank-1 view

        double loss = 0;
        for (long r0 = 0; r0 < n; r0 += block) {
            int rows = (int) Math.min(block, n - r0);
            INDArray xb = x2d.get(NDArrayIndex.interval(r0, r0 + rows), NDArrayIndex.all());      // [R, C]
            INDArray z = rows == block ? zBlock : zBlock.get(NDArrayIndex.interval(0, rows), NDArrayIndex.all());
            Nd4j.gemm(xb, w, z, false, tied, 1.0, 0.0);                                         // [R, V]
            if (bias != null) {
                z.addiRowVector(bias);
            }
            Nd4j.exec(new SoftMax(z, z, 1));
            for (int i = 0; i < rows; i++) {
                int row = (int) r0 + i;
                int y = ids[row];
                double weight = mask == null ? 1.0 : mask[row];
                double p = z.getDouble(i, y);
                double rowNll = p >= SMALLEST_TRUSTED_P ? -Math.log(p) : exactNll(xb.getRow(i), tied ? w.transpose() : w, bias, y);
                loss += weight * rowNll;
                if (rowLoss != null) {
                    rowLoss[row] = weight * rowNll;
                }
                if (dx2d != null) {
                    z.putScalar(i, y, p - 1.0);
                    if (weight != 1.0) {
                        z.getRow(i).muli(weight);
                    }
                }
            }
            if (dx2d != null) {
                double beta = r0 == 0 ? 0.0 : 1.0;
                if (tied) {
                    Nd4j.gemm(z, xb, dW, true, false, 1.0, beta);                               // [V, C]: assigns first
                } else {
                    Nd4j.gemm(xb, z, dW, true, false, 1.0, beta);                               // [C, V]
                }
                if (dB != null) {
                    INDArray onesRow = rows == block ? ones : ones.get(NDArrayIndex.all(), NDArrayIndex.interval(0, rows));
                    Nd4j.gemm(onesRow, z, dB, false, false, 1.0, beta);                         // [1, V]
                }
                INDArray dxb = dx2d.get(NDArrayIndex.interval(r0, r0 + rows), NDArrayIndex.all());
                Nd4j.gemm(z, w, dxb, false, !tied, 1.0, 0.0);                                   // [R, C]
            }
        }
        return loss;
    }

    /** {@code -log softmax(x W + b)[y]} in double (no bias: null), for a row whose probability underflowed in the fast path. */
    private static double exactNll(INDArray xRow, INDArray w, INDArray bias, int y) {
        INDArray zd = xRow.reshape(1, xRow.length()).castTo(DataType.DOUBLE).mmul(w.castTo(DataType.DOUBLE));
        double[] z = (bias == null ? zd : zd.addiRowVector(bias.castTo(DataType.DOUBLE))).toDoubleVector();
        double max = Double.NEGATIVE_INFINITY;
        for (double zi : z) {
            max = Math.max(max, zi);
        }
        double sum = 0;
        for (double zi : z) {
            sum += Math.exp(zi - max);
        }
        return max + Math.log(sum) - z[y];
    }

    /** Input {@code [B, C, T]} as a c-order copy {@code [B*T, C]} (row {@code b*T + t}). */
    private static INDArray rows(INDArray x, LayerWorkspaceMgr mgr, ArrayType type) {
        long b = x.size(0), c = x.size(1), t = x.size(2);
        INDArray btc = mgr.createUninitialized(type, x.dataType(), new long[]{b, t, c}, 'c');
        btc.assign(x.permute(0, 2, 1));
        return btc.reshape(b * t, c);
    }

    /** Next-token ids, row {@code b*T + t}, checked against the vocabulary. */
    private int[] labelIds() {
        int[] ids = labels.dup('c').reshape(labels.length()).toIntVector();
        long v = layerConf().getNOut();
        for (int r = 0; r < ids.length; r++) {
            if (ids[r] < 0 || ids[r] >= v) {
                throw new IllegalArgumentException("label id " + ids[r] + " at row " + r + " is outside the vocabulary [0, "
                        + v + ") " + layerId());
            }
        }
        return ids;
    }

    /** The label mask per row ({@code [B, T]} or {@code [B, 1, T]}), or null without one. */
    private float[] rowMask() {
        return maskArray == null ? null : maskArray.dup('c').reshape(maskArray.length()).toFloatVector();
    }
}
