package dev.kiln.model;

import dev.kiln.model.LayerNorms.Norm;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import static dev.kiln.model.TransformerBlock.FC_BIAS;
import static dev.kiln.model.TransformerBlock.FC_WEIGHT;
import static dev.kiln.model.TransformerBlock.LN1_BIAS;
import static dev.kiln.model.TransformerBlock.LN1_GAIN;
import static dev.kiln.model.TransformerBlock.LN2_BIAS;
import static dev.kiln.model.TransformerBlock.LN2_GAIN;
import static dev.kiln.model.TransformerBlock.OUT_BIAS;
import static dev.kiln.model.TransformerBlock.OUT_WEIGHT;
import static dev.kiln.model.TransformerBlock.PROJ_BIAS;
import static dev.kiln.model.TransformerBlock.PROJ_WEIGHT;
import static dev.kiln.model.TransformerBlock.QKV_BIAS;
import static dev.kiln.model.TransformerBlock.QKV_WEIGHT;

/**
 * Runtime of {@link TransformerBlock}. Shapes: B sequences, T positions, C channels, H heads of hs = C/H, rC the MLP
 * width, N = B*T rows (row {@code b*T + t}). A training forward keeps what the backward needs in {@link Cache}
 * (in DL4J's input workspace, which lives from the forward to the end of the backward pass).
 * <p>
 * With {@link #recomputeActivations} (activation checkpointing) a training forward keeps nothing but DL4J's own
 * input and output of the block, and the backward pass runs the forward again first: one block's intermediates
 * exist at a time, in a scratch workspace every block of the thread reuses, instead of every block's for the whole
 * step. The recomputed forward is the same arithmetic on the same input, so the gradients are bit-identical; it
 * costs one more forward of the blocks (about a third more block work).
 */
public class TransformerBlockLayer extends HandWrittenLayerImpl<TransformerBlock> {
    /** sqrt(2/pi), GPT-2's tanh approximation of GELU. */
    private static final double GELU_K = Math.sqrt(2.0 / Math.PI);
    private static final double GELU_C = 0.044715;

    /** Forward intermediates for the backward pass. */
    private record Cache(INDArray x, Norm ln1, INDArray q, INDArray k, INDArray v, INDArray att, INDArray y,
                         Norm ln2, INDArray f, INDArray tanh, INDArray g) {
    }

    /** The scratch workspace of a recomputing block; learnt on its first uses, then reused at its largest size. */
    private static final String RECOMPUTE_WORKSPACE = "KILN_BLOCK_RECOMPUTE";
    private static final WorkspaceConfiguration RECOMPUTE_WORKSPACE_CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0).overallocationLimit(0.05).policyAllocation(AllocationPolicy.OVERALLOCATE)
            .policyLearning(LearningPolicy.FIRST_LOOP).policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE).build();

    private transient Cache cache;
    private transient INDArray mask;
    private transient boolean recompute;

    public TransformerBlockLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** Activation checkpointing on or off for this block (a runtime choice of the trainer, not saved with the model). */
    void recomputeActivations(boolean on) {
        recompute = on;
    }

    private static MemoryWorkspace openRecomputeWorkspace() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(RECOMPUTE_WORKSPACE_CONFIG, RECOMPUTE_WORKSPACE);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        long b = input.size(0), c = input.size(1), t = input.size(2);
        if (training && recompute) {
            try (MemoryWorkspace ignored = openRecomputeWorkspace()) {
                return ncw(forward(rows(input), false), b, t, mgr, ArrayType.ACTIVATIONS);   // [B, C, T]
            }
        }
        INDArray out;
        // Training: everything the forward makes lives on in the input workspace, for the backward pass.
        try (MemoryWorkspace ignored = training ? mgr.notifyScopeBorrowed(ArrayType.INPUT) : null) {
            out = forward(rows(input), training);                                          // [N, C]
        }
        return ncw(out, b, t, mgr, ArrayType.ACTIVATIONS);                                 // [B, C, T]
    }

    /** The block on rows {@code x [N, C]}; with {@code keep}, the intermediates go to {@link #cache}. */
    private INDArray forward(INDArray x, boolean keep) {
        TransformerBlock cfg = layerConf();
        long b = input.size(0), t = input.size(2), c = cfg.getDModel();
        int h = cfg.getHeads();
        long hs = c / h;

        // --- causal multi-head self-attention on ln_1(x)
        Norm ln1 = LayerNorms.forward(x, p(LN1_GAIN), p(LN1_BIAS));
        INDArray qkv = ln1.out().mmul(p(QKV_WEIGHT)).addiRowVector(p(QKV_BIAS));         // [N, 3C]
        INDArray split = qkv.reshape(b, t, 3, h, hs).permute(2, 0, 3, 1, 4);              // [3, B, H, T, hs]
        INDArray q = part(split, 0, b * h, t, hs);                                          // [BH, T, hs]
        INDArray k = part(split, 1, b * h, t, hs);
        INDArray v = part(split, 2, b * h, t, hs);
        INDArray att = Nd4j.matmul(q, k, false, true, false).muli(1.0 / Math.sqrt(hs));    // [BH, T, T]
        Nd4j.exec(new BroadcastAddOp(att, causalMask(t, att.dataType()), att, 1, 2));
        Nd4j.exec(new SoftMax(att, att, 2));
        INDArray yh = Nd4j.matmul(att, v, false, false, false);                              // [BH, T, hs]
        INDArray y = yh.reshape(b, h, t, hs).permute(0, 2, 1, 3).dup('c').reshape(b * t, c); // [N, C]
        INDArray x1 = y.mmul(p(PROJ_WEIGHT)).addiRowVector(p(PROJ_BIAS)).addi(x);          // [N, C]

        // --- MLP on ln_2(x)
        Norm ln2 = LayerNorms.forward(x1, p(LN2_GAIN), p(LN2_BIAS));
        INDArray f = ln2.out().mmul(p(FC_WEIGHT)).addiRowVector(p(FC_BIAS));               // [N, rC]
        INDArray tanh = Transforms.tanh(f.mul(f).muli(f).muli(GELU_C).addi(f).muli(GELU_K), false);
        INDArray g = tanh.add(1.0).muli(f).muli(0.5);                                       // gelu(f) [N, rC]
        INDArray out = g.mmul(p(OUT_WEIGHT)).addiRowVector(p(OUT_BIAS)).addi(x1);          // [N, C]
        cache = keep ? new Cache(x, ln1, q, k, v, att, y, ln2, f, tanh, g) : null;
        return out;
    }

    /** The parameters as float copies, for {@link #forwardCached}: a snapshot (inference never changes them). */
    record Weights(float[] ln1Gain, float[] ln1Bias, float[] qkvW, float[] qkvB, float[] projW, float[] projB,
                           float[] ln2Gain, float[] ln2Bias, float[] fcW, float[] fcB, float[] outW, float[] outB) {
    }

    /**
     * Inference over new positions with cached keys and values (generation, see {@link KvCache}): rows of
     * {@code x [N, C]} are positions {@code slot[r]} of cache rows {@code row[r]}, any number per row, in slot order
     * within a row. The same math as {@link #forward} on those positions, on plain float rows ({@link RowMath}).
     * Returns the block's output {@code [N, C]}.
     */
    static float[] forwardCached(Weights w, float[] x, int n, KvCache cache, int layer, int[] row, int[] slot) {
        int c = w.ln1Gain().length, rc = w.fcB().length;
        float[] qkv = RowMath.affine(RowMath.layerNorm(x, n, c, w.ln1Gain(), w.ln1Bias()), n, c, w.qkvW(), 3 * c, w.qkvB()); // [N, 3C]
        float[] y = cache.attend(layer, qkv, row, slot);                                                      // [N, C]
        float[] x1 = RowMath.affine(y, n, c, w.projW(), c, w.projB());                                       // [N, C]
        RowMath.add(x1, x);
        float[] f = RowMath.affine(RowMath.layerNorm(x1, n, c, w.ln2Gain(), w.ln2Bias()), n, c, w.fcW(), rc, w.fcB()); // [N, rC]
        RowMath.gelu(f, GELU_K, GELU_C);
        float[] out = RowMath.affine(f, n, rc, w.outW(), c, w.outB());                                       // [N, C]
        RowMath.add(out, x1);
        return out;
    }

    Weights weights() {
        return new Weights(RowMath.floats(p(LN1_GAIN)), RowMath.floats(p(LN1_BIAS)), RowMath.floats(p(QKV_WEIGHT)),
                RowMath.floats(p(QKV_BIAS)), RowMath.floats(p(PROJ_WEIGHT)), RowMath.floats(p(PROJ_BIAS)),
                RowMath.floats(p(LN2_GAIN)), RowMath.floats(p(LN2_BIAS)), RowMath.floats(p(FC_WEIGHT)),
                RowMath.floats(p(FC_BIAS)), RowMath.floats(p(OUT_WEIGHT)), RowMath.floats(p(OUT_BIAS)));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        if (recompute) {
            try (MemoryWorkspace ignored = openRecomputeWorkspace()) {
                forward(rows(input), true);
                return backward(epsilon, mgr);
            }
        }
        return backward(epsilon, mgr);
    }

    /** The backward pass from {@link #cache} (the forward's intermediates), which it releases. */
    private Pair<Gradient, INDArray> backward(INDArray epsilon, LayerWorkspaceMgr mgr) {
        if (cache == null) {
            throw new IllegalStateException("backpropGradient without a training forward pass " + layerId());
        }
        TransformerBlock cfg = layerConf();
        long b = input.size(0), t = input.size(2), c = cfg.getDModel();
        int h = cfg.getHeads();
        long hs = c / h;
        Cache k = cache;
        INDArray dOut = rows(epsilon);                                                       // [N, C]

        // out = x1 + g W_out + b_out
        Nd4j.gemm(k.g(), dOut, grad(OUT_WEIGHT), true, false, 1.0, 0.0);
        sumRows(dOut, grad(OUT_BIAS));
        INDArray df = Nd4j.gemm(dOut, p(OUT_WEIGHT), false, true);                          // d gelu [N, rC]
        df.muli(geluDerivative(k.f(), k.tanh()));                                            // d f
        Nd4j.gemm(k.ln2().out(), df, grad(FC_WEIGHT), true, false, 1.0, 0.0);
        sumRows(df, grad(FC_BIAS));
        INDArray dx1 = LayerNorms.backward(Nd4j.gemm(df, p(FC_WEIGHT), false, true), k.ln2(), p(LN2_GAIN),
                grad(LN2_GAIN), grad(LN2_BIAS)).addi(dOut);                                 // [N, C]

        // x1 = x + y W_proj + b_proj
        Nd4j.gemm(k.y(), dx1, grad(PROJ_WEIGHT), true, false, 1.0, 0.0);
        sumRows(dx1, grad(PROJ_BIAS));
        INDArray dy = Nd4j.gemm(dx1, p(PROJ_WEIGHT), false, true);                          // [N, C]
        INDArray dyh = dy.reshape(b, t, h, hs).permute(0, 2, 1, 3).dup('c').reshape(b * h, t, hs); // [BH, T, hs]
        INDArray datt = Nd4j.matmul(dyh, k.v(), false, true, false);                          // [BH, T, T]
        INDArray dv = Nd4j.matmul(k.att(), dyh, true, false, false);                          // [BH, T, hs]
        // softmax backward: ds = att * (datt - sum_j datt * att), then the 1/sqrt(hs) scale
        INDArray rowDot = datt.mul(k.att()).sum(2);                                          // [BH, T]
        Nd4j.exec(new BroadcastSubOp(datt, rowDot, datt, 0, 1));
        INDArray ds = datt.muli(k.att()).muli(1.0 / Math.sqrt(hs));
        INDArray dq = Nd4j.matmul(ds, k.k(), false, false, false);                            // [BH, T, hs]
        INDArray dk = Nd4j.matmul(ds, k.q(), true, false, false);                             // [BH, T, hs]
        INDArray dSplit = Nd4j.createUninitialized(dq.dataType(), 3, b, h, t, hs);          // [3, B, H, T, hs]
        dSplit.get(NDArrayIndex.point(0)).assign(dq.reshape(b, h, t, hs));
        dSplit.get(NDArrayIndex.point(1)).assign(dk.reshape(b, h, t, hs));
        dSplit.get(NDArrayIndex.point(2)).assign(dv.reshape(b, h, t, hs));
        INDArray dqkv = dSplit.permute(1, 3, 0, 2, 4).dup('c').reshape(b * t, 3 * c);       // [N, 3C]
        Nd4j.gemm(k.ln1().out(), dqkv, grad(QKV_WEIGHT), true, false, 1.0, 0.0);
        sumRows(dqkv, grad(QKV_BIAS));
        INDArray dx = LayerNorms.backward(Nd4j.gemm(dqkv, p(QKV_WEIGHT), false, true), k.ln1(), p(LN1_GAIN),
                grad(LN1_GAIN), grad(LN1_BIAS)).addi(dx1);                                  // [N, C]

        cache = null;
        return new Pair<>(gradients(), ncw(dx, b, t, mgr, ArrayType.ACTIVATION_GRAD));     // [B, C, T]
    }

    @Override
    public void clear() {
        super.clear();
        cache = null;
    }

    /** q, k or v ({@code which} = 0, 1, 2) of {@code [3, B, H, T, hs]} as a c-order {@code [B*H, T, hs]}. */
    private static INDArray part(INDArray split, int which, long bh, long t, long hs) {
        return split.get(NDArrayIndex.point(which)).dup('c').reshape(bh, t, hs);
    }

    private INDArray causalMask(long t, DataType dataType) {
        if (mask == null || mask.size(0) != t || mask.dataType() != dataType) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                mask = TransformerBlock.causalMask((int) t, dataType);
            }
        }
        return mask;
    }

    /** d gelu(f) / df for the tanh form, given {@code tanh = tanh(k (f + c f^3))}. */
    private static INDArray geluDerivative(INDArray f, INDArray tanh) {
        // 0.5 (1 + tanh) + 0.5 f (1 - tanh^2) k (1 + 3 c f^2)
        INDArray inner = f.mul(f).muli(3 * GELU_C).addi(1.0).muli(GELU_K).muli(f).muli(0.5);
        INDArray sech2 = tanh.mul(tanh).rsubi(1.0);
        return sech2.muli(inner).addi(tanh.add(1.0).muli(0.5));
    }

}
