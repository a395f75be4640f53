package dev.kiln.train.parallel;

import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.TinyRuns;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.data.BatchSource;
import dev.kiln.train.data.DataPosition;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplicaTest {
    /** The same minibatch on every call. */
    record Fixed(int[][] rows) implements BatchSource {
        public int[][] next() {
            return rows;
        }

        public DataPosition position() {
            return DataPosition.START;
        }

        public void seek(DataPosition position) {
        }

        public void close() {
        }
    }

    /**
     * The loss a step records is the minibatch's mean cross-entropy per predicted token with the parameters before
     * the update, without the weight-decay term (here 0.1, so leaving it in would show).
     */
    @Test
    void aStepsLossIsTheMinibatchsCrossEntropyBeforeTheUpdate() {
        TrainConfig cfg = TrainConfig.from(TinyRuns.config("unused-shards", "unused-output",
                Map.of("optimizer.weight-decay", "0.1", "optimizer.learning-rate", "1e-2", "optimizer.warmup-steps", "0")));
        TrainConfig.ModelShape m = cfg.model();
        GptConfig shape = new GptConfig(257, TinyRuns.CONTEXT, m.dModel(), m.layers(), m.heads(), m.mlpRatio());
        Replica replica = Replica.create(shape, cfg.engine(), cfg.learningRateSchedule());
        Random random = new Random(3);
        int[][] rows = new int[4][TinyRuns.CONTEXT + 1];
        for (int[] row : rows) {
            for (int j = 0; j < row.length; j++) {
                row[j] = random.nextInt(257);
            }
        }
        double before = GptModel.meanLoss(replica.model(), rows);
        RoundStats s = replica.train(new Fixed(rows), 2, 0);
        double after = GptModel.meanLoss(replica.model(), rows);
        assertEquals(before, s.losses()[0], 1e-4, "step 1 records the loss before its update");
        assertTrue(after < s.losses()[1] && s.losses()[1] < before,
                "step 2 records the loss after step 1's update: " + before + " > " + s.losses()[1] + " > " + after);
    }
}
