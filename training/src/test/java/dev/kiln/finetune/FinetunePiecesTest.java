package dev.kiln.finetune;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.model.ClassifierHead;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.WarmupLinearSchedule;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.BatchSource;
import dev.kiln.train.data.DataPosition;
import dev.kiln.train.data.ExampleBatches;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fine-tune's small pure pieces, and a classifier checkpoint's round trip. */
class FinetunePiecesTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void macroF1IsTheUnweightedMeanOfPerClassF1() {
        // class 0: tp 3, fp 1, fn 0 -> P 0.75 R 1 F 6/7; class 1: tp 1, fp 0, fn 1 -> P 1 R 0.5 F 2/3
        List<String> labels = List.of("ham", "spam");
        ClassifierMetrics m = Finetuning.metrics(labels, new int[]{0, 0, 0, 1, 1}, new int[]{0, 0, 0, 0, 1});
        assertEquals(0.8, m.accuracy(), 1e-12);
        assertEquals(6.0 / 7, m.perClass().get("ham").f1(), 1e-12);
        assertEquals(2.0 / 3, m.perClass().get("spam").f1(), 1e-12);
        assertEquals((6.0 / 7 + 2.0 / 3) / 2, m.macro().f1(), 1e-12);
        // always the majority class: the minority's F1 is 0 and halves the macro F1
        ClassifierMetrics majority = Finetuning.metrics(labels, new int[]{0, 0, 0, 1}, new int[]{0, 0, 0, 0});
        assertEquals(0.75, majority.accuracy(), 1e-12);
        assertEquals((6.0 / 7) / 2, majority.macro().f1(), 1e-12);
        // a label neither true nor predicted is left out of the mean (scikit-learn's labels = the union of both)
        ClassifierMetrics two = Finetuning.metrics(List.of("a", "b", "c"), new int[]{0, 1}, new int[]{0, 1});
        assertEquals(1.0, two.macro().f1(), 1e-12);
    }

    @Test
    void truncationKeepsTheHeadTheTailOrBoth() {
        int[] ids = {1, 2, 3, 4, 5, 6, 7};
        assertArrayEquals(new int[]{1, 2, 3}, LabelledDocuments.truncate(ids, 3, FinetuneConfig.Truncation.HEAD));
        assertArrayEquals(new int[]{5, 6, 7}, LabelledDocuments.truncate(ids, 3, FinetuneConfig.Truncation.TAIL));
        assertArrayEquals(new int[]{1, 2, 6, 7}, LabelledDocuments.truncate(ids, 4, FinetuneConfig.Truncation.HEAD_TAIL));
        assertArrayEquals(new int[]{1, 2, 7}, LabelledDocuments.truncate(ids, 3, FinetuneConfig.Truncation.HEAD_TAIL));
        assertArrayEquals(ids, LabelledDocuments.truncate(ids, 7, FinetuneConfig.Truncation.TAIL));
    }

    @Test
    void windowsCutTheKeptTokensIntoEqualPiecesOfAtMostTheContext() {
        int[] ids = new int[10];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i + 1;
        }
        // 10 tokens, context 4: ceil(10/4) = 3 windows of 4, 3, 3 (not 4, 4, 2)
        List<int[]> w = LabelledDocuments.windows(ids, 4);
        assertEquals(3, w.size());
        assertArrayEquals(new int[]{1, 2, 3, 4}, w.get(0));
        assertArrayEquals(new int[]{5, 6, 7}, w.get(1));
        assertArrayEquals(new int[]{8, 9, 10}, w.get(2));
        assertEquals(1, LabelledDocuments.windows(ids, 10).size());
        assertArrayEquals(ids, LabelledDocuments.windows(ids, 12).get(0));
        assertEquals(10, LabelledDocuments.windows(ids, 1).size());
        // head-tail with 2 windows of 4: the first 4 and the last 4 tokens, one window each
        List<int[]> ht = LabelledDocuments.windows(LabelledDocuments.truncate(ids, 8, FinetuneConfig.Truncation.HEAD_TAIL), 4);
        assertArrayEquals(new int[]{1, 2, 3, 4}, ht.get(0));
        assertArrayEquals(new int[]{7, 8, 9, 10}, ht.get(1));
        assertThrows(IllegalArgumentException.class, () -> LabelledDocuments.windows(new int[0], 4));
    }

    @Test
    void aDocumentsProbabilitiesAreTheMeanOfItsWindowsAndTrainingHasARowPerWindow() {
        GptConfig shape = new GptConfig(50, 8, 16, 1, 2, 2);
        ComputationGraph classifier = ClassifierModel.fromParent(GptModel.build(shape, new NoOp(), 0, 3, DataType.FLOAT), 2,
                ClassifierHead.Pooling.LAST, null, new Adam(1e-3), 0.01, 5, List.of());
        Random r = new Random(2);
        int[] longDoc = new int[20];   // 3 windows of 7, 7, 6
        int[] shortDoc = new int[5];   // 1 window
        for (int[] d : List.of(longDoc, shortDoc)) {
            for (int j = 0; j < d.length; j++) {
                d[j] = r.nextInt(50);
            }
        }
        List<LabelledDocuments.Example> test = List.of(
                new LabelledDocuments.Example("long", "h1", LabelledDocuments.TEST, "h1", "spam", longDoc),
                new LabelledDocuments.Example("short", "h2", LabelledDocuments.TEST, "h2", "ham", shortDoc));
        LabelledDocuments.Data data = new LabelledDocuments.Data(List.of("ham", "spam"), test, List.of(), test, 0);

        List<int[]> rows = Finetuning.rows(data, test, 8);
        assertEquals(4, rows.size(), "3 windows of the long document, 1 of the short");
        assertEquals(1, rows.get(2)[9], "each window carries its document's class (spam = 1)");
        assertEquals(0, rows.get(3)[9]);

        Finetuning.SplitScores e = Finetuning.evaluate(classifier, data, test, 8);
        List<int[]> windows = LabelledDocuments.windows(longDoc, 8);
        INDArray perWindow = ClassifierModel.probabilities(classifier,
                windows.stream().map(w -> ClassifierModel.row(w, 8, 0)).toArray(int[][]::new));
        double[] mean = perWindow.mean(0).toDoubleVector();
        assertArrayEquals(mean, e.probabilities()[0], 1e-6, "the long document: the mean of its 3 windows");
        assertArrayEquals(ClassifierModel.probabilities(classifier, new int[][]{ClassifierModel.row(shortDoc, 8, 0)})
                .getRow(0).toDoubleVector(), e.probabilities()[1], 1e-6);
        assertEquals(2, e.metrics().n(), "metrics count documents, not windows");
        double loss = -Math.log(e.probabilities()[0][1]) - Math.log(e.probabilities()[1][0]);
        assertEquals(loss / 2, e.meanLoss(), 1e-9);
    }

    @Test
    void splitsFollowTheFractions() {
        int test = 0, validation = 0;
        for (int i = 0; i < 10_000; i++) {
            String s = LabelledDocuments.splitOf("hash-" + i, 0.1, 0.2);
            test += s.equals(LabelledDocuments.TEST) ? 1 : 0;
            validation += s.equals(LabelledDocuments.VALIDATION) ? 1 : 0;
        }
        assertEquals(2000, test, 150);
        assertEquals(1000, validation, 120);
    }

    @Test
    void exampleBatchesVisitEveryExampleOncePerEpochAndResumeExactly() {
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < 37; i++) {
            rows.add(new int[]{i});
        }
        ExampleBatches.Factory f = ExampleBatches.Factory.of(rows, 7);
        assertEquals(4, ExampleBatches.stepsPerEpoch(37, 2, 4));
        BatchSource w0 = f.open(0, 2, 4);
        BatchSource w1 = f.open(1, 2, 4);
        Set<Integer> seen = new HashSet<>();
        for (int step = 0; step < 4; step++) {
            for (int[] r : w0.next()) {
                assertTrue(seen.add(r[0]));
            }
            for (int[] r : w1.next()) {
                assertTrue(seen.add(r[0]), "the workers' slices are disjoint");
            }
        }
        assertEquals(32, seen.size(), "an epoch of 4 steps x 2 workers x 4; the 5 left over are skipped");
        DataPosition end = w0.position();
        int[][] next = w0.next(); // epoch 1 begins
        BatchSource again = f.open(0, 2, 4);
        again.seek(end);
        assertArrayEquals(next, again.next());
        assertEquals(1, again.position().epoch());
    }

    @Test
    void linearScheduleWarmsUpThenFallsToTheMinimum() {
        WarmupLinearSchedule s = new WarmupLinearSchedule(1.0, 0.1, 10, 110);
        assertEquals(0.1, s.at(0), 1e-12);
        assertEquals(1.0, s.at(9), 1e-12);
        assertEquals(1.0, s.at(10), 1e-12);
        assertEquals(0.55, s.at(60), 1e-12);
        assertEquals(0.1, s.at(110), 1e-12);
    }

    @Test
    void aClassifierCheckpointRoundTripsWithTheSameProbabilities() throws IOException {
        GptConfig shape = new GptConfig(50, 12, 16, 1, 2, 2);
        ComputationGraph parent = GptModel.build(shape, new NoOp(), 0, 3, DataType.FLOAT);
        ComputationGraph classifier = ClassifierModel.fromParent(parent, 3, ClassifierHead.Pooling.LAST, null,
                new Adam(1e-3), 0.01, 5, List.of());
        assertEquals(parent.getLayer("block0").params(), classifier.getLayer("block0").params(), "the parent's weights");
        Random r = new Random(1);
        List<int[]> docs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] ids = new int[1 + r.nextInt(12)];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = r.nextInt(50);
            }
            docs.add(ids);
        }
        int[][] rows = docs.stream().map(d -> ClassifierModel.row(d, 12, 0)).toArray(int[][]::new);
        INDArray before = ClassifierModel.probabilities(classifier, rows);

        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path dir = new Path(tmp.resolve("run/checkpoints").toUri());
        String stage = "{\"task\":\"classify\",\"labels\":[\"a\",\"b\",\"c\"],\"context_length\":12}";
        new CheckpointStore(fs, dir, 1).save(new Checkpoint(4, classifier, DataPosition.START, null, "{}", "sha", 1, stage));
        ClassifierCheckpoint c = ClassifierCheckpoint.load(fs, new Path(tmp.resolve("run/checkpoints").toUri()), "k");
        assertEquals(List.of("a", "b", "c"), c.labels());
        assertEquals(before, c.probabilities(docs), "same probabilities after reload");

        // A pre-training checkpoint is not a classifier.
        Path lm = new Path(tmp.resolve("lm/checkpoints").toUri());
        new CheckpointStore(fs, lm, 1).save(new Checkpoint(1, parent, DataPosition.START, null, "{}", "sha", 1));
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> ClassifierCheckpoint.load(fs, lm, "k"));
        assertTrue(e.getMessage().contains("not a Kiln classifier checkpoint"), e.getMessage());
    }
}
