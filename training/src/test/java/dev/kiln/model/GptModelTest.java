package dev.kiln.model;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GptModelTest extends DoublePrecisionTest {

    /**
     * Central differences on every parameter of the whole model (embeddings, two blocks, final norm, head) in double
     * precision. This also guards the 2x-gradient workaround: if a DL4J upgrade fixes the bug, the halving in
     * CompensatedSameDiffLayer makes every gradient below the head half the truth and this check fails.
     */
    @Test
    void wholeModelGradientsMatchFiniteDifferences() {
        // Tiny on purpose (~430 parameters): two blocks with two heads are enough to exercise the
        // mask, the head split and the residual paths, and the 2x bug compounds across the stacked SameDiff layers.
        GptConfig cfg = new GptConfig(7, 4, 4, 2, 2, 2);
        ComputationGraph model = GptModel.build(cfg, new NoOp(), 0.0, 12345, DataType.DOUBLE);
        int[][] rows = randomRows(2, cfg.contextLength(), cfg.vocabSize(), 7);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(model)
                .inputs(new INDArray[]{GptModel.inputs(rows, DataType.DOUBLE)})
                .labels(new INDArray[]{GptModel.labels(rows, DataType.DOUBLE)})
                .epsilon(1e-6).maxRelError(1e-3)
                // Central differences of a score ~10 in double are accurate to ~1e-9 absolute: ignore smaller errors.
                .minAbsoluteError(1e-8)
                // Every parameter tensor of every layer, up to 12 entries each (all 431 take minutes on 2 busy cores).
                .subset(true).maxPerParam(12)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                .exitOnFirstError(false));
        assertTrue(ok, "analytic gradients differ from finite differences (see the log for the parameters)");
    }

    /** Position t only attends to 0..t: changing the last token must leave every earlier prediction unchanged. */
    @Test
    void laterTokensDoNotChangeEarlierOutputs() {
        GptConfig cfg = new GptConfig(13, 8, 16, 2, 4, 4);
        ComputationGraph model = GptModel.build(cfg, new NoOp(), 0.0, 99, DataType.DOUBLE);
        int[][] rows = randomRows(2, cfg.contextLength(), cfg.vocabSize(), 3);
        int[][] changed = new int[2][];
        for (int i = 0; i < 2; i++) {
            changed[i] = rows[i].clone();
        }
        int last = cfg.contextLength() - 1;
        changed[0][last] = (rows[0][last] + 5) % cfg.vocabSize(); // a later input token, row 0
        changed[1][4] = (rows[1][4] + 1) % cfg.vocabSize();       // a middle one, row 1
        INDArray before = GptModel.probabilities(model, rows);
        INDArray after = GptModel.probabilities(model, changed);
        for (int v = 0; v < cfg.vocabSize(); v++) {
            for (int t = 0; t < last; t++) {
                assertEquals(before.getDouble(0, v, t), after.getDouble(0, v, t), 1e-12, "row 0 position " + t);
            }
            for (int t = 0; t < 4; t++) {
                assertEquals(before.getDouble(1, v, t), after.getDouble(1, v, t), 1e-12, "row 1 position " + t);
            }
        }
        // ...and the change is visible where it may be: the changed positions themselves.
        double diffLast = 0;
        double diffMiddle = 0;
        for (int v = 0; v < cfg.vocabSize(); v++) {
            diffLast += Math.abs(before.getDouble(0, v, last) - after.getDouble(0, v, last));
            diffMiddle += Math.abs(before.getDouble(1, v, 4) - after.getDouble(1, v, 4));
        }
        assertTrue(diffLast > 1e-6 && diffMiddle > 1e-6, "the changed tokens must change their own outputs");
    }

    @Test
    void sameSeedGivesSameWeightsAndSensibleInitialLoss() {
        GptConfig cfg = new GptConfig(50, 8, 16, 2, 2, 4);
        ComputationGraph a = GptModel.build(cfg, new NoOp(), 0.0, 5, DataType.FLOAT);
        ComputationGraph b = GptModel.build(cfg, new NoOp(), 0.0, 5, DataType.FLOAT);
        ComputationGraph c = GptModel.build(cfg, new NoOp(), 0.0, 6, DataType.FLOAT);
        assertEquals(a.params(), b.params());
        assertTrue(!a.params().equals(c.params()));
        // Small initial weights: predictions are close to uniform, loss close to ln V.
        double loss = GptModel.meanLoss(a, randomRows(4, cfg.contextLength(), cfg.vocabSize(), 1));
        assertEquals(Math.log(cfg.vocabSize()), loss, 0.1);
        assertEquals(cfg.matmulParameters() + (long) cfg.vocabSize() * cfg.dModel() + (long) cfg.dModel() * cfg.contextLength()
                + cfg.layers() * (4L * cfg.dModel() + 3L * cfg.dModel() + cfg.dModel() + cfg.mlpRatio() * cfg.dModel() + cfg.dModel())
                + 2L * cfg.dModel() + cfg.vocabSize(), a.numParams(), "parameter count");
    }

    /**
     * Activation checkpointing changes where the blocks' intermediates live, not the arithmetic: three AdamW steps with
     * it on end at exactly the weights (and optimizer state) of three steps with it off, tied and untied.
     */
    @Test
    void recomputingActivationsGivesBitIdenticalTraining() {
        for (boolean tied : new boolean[]{true, false}) {
            GptConfig cfg = new GptConfig(64, 16, 32, 3, 4, 4).withTiedEmbeddings(tied);
            ComputationGraph plain = GptModel.build(cfg, new Adam(1e-2), 0.1, 3, DataType.FLOAT);
            ComputationGraph recomputing = GptModel.recomputeActivations(
                    GptModel.build(cfg, new Adam(1e-2), 0.1, 3, DataType.FLOAT), true);
            for (int step = 0; step < 3; step++) {
                int[][] rows = randomRows(4, cfg.contextLength(), cfg.vocabSize(), 20 + step);
                plain.fit(GptModel.dataSet(rows, DataType.FLOAT));
                recomputing.fit(GptModel.dataSet(rows, DataType.FLOAT));
            }
            assertEquals(plain.params(), recomputing.params(), "weights, tied=" + tied);
            assertEquals(plain.getUpdater().getStateViewArray(), recomputing.getUpdater().getStateViewArray(), "AdamW moments");
            assertTrue(plain.score() > 0 && plain.score() == recomputing.score(), "same loss");
        }
    }
}
