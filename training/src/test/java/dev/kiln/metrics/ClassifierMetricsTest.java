package dev.kiln.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassifierMetricsTest {
    /**
     * A fixed 3-class matrix (rows true, columns predicted):
     * <pre>
     *        a  b  c
     *   a    5  2  1    support 8
     *   b    1  6  1    support 8
     *   c    0  2  4    support 6
     * </pre>
     * By hand, with F1 = 2TP / (2TP + FP + FN): a: P 5/6, R 5/8, F1 10/14; b: P 6/10, R 6/8, F1 12/18;
     * c: P 4/6, R 4/6, F1 8/12; accuracy 15/22.
     */
    @Test
    void fixedConfusionMatrix() {
        List<Prediction> preds = new ArrayList<>();
        int[][] m = {{5, 2, 1}, {1, 6, 1}, {0, 2, 4}};
        String[] l = {"a", "b", "c"};
        for (int t = 0; t < 3; t++) {
            for (int p = 0; p < 3; p++) {
                for (int i = 0; i < m[t][p]; i++) {
                    preds.add(new Prediction(l[t] + l[p] + i, l[t], l[p], Map.of()));
                }
            }
        }
        ClassifierMetrics r = ClassifierMetrics.of(preds, null);
        assertEquals(22, r.n());
        assertEquals(List.of("a", "b", "c"), r.labels());
        assertEquals(List.of(List.of(5L, 2L, 1L), List.of(1L, 6L, 1L), List.of(0L, 2L, 4L)), r.confusion().rows());
        assertEquals(15.0 / 22, r.accuracy(), 1e-15);
        assertClass(r.perClass().get("a"), 5.0 / 6, 5.0 / 8, 10.0 / 14, 8);
        assertClass(r.perClass().get("b"), 6.0 / 10, 6.0 / 8, 12.0 / 18, 8);
        assertClass(r.perClass().get("c"), 4.0 / 6, 4.0 / 6, 8.0 / 12, 6);
        assertEquals((5.0 / 6 + 0.6 + 4.0 / 6) / 3, r.macro().precision(), 1e-15);
        assertEquals((5.0 / 8 + 0.75 + 4.0 / 6) / 3, r.macro().recall(), 1e-15);
        assertEquals((10.0 / 14 + 2.0 / 3 + 2.0 / 3) / 3, r.macro().f1(), 1e-15);
        assertEquals((8 * 10.0 / 14 + 8 * 2.0 / 3 + 6 * 2.0 / 3) / 22, r.weighted().f1(), 1e-15);
        // Weighted recall is accuracy, always.
        assertEquals(r.accuracy(), r.weighted().recall(), 1e-15);
        assertTrue(r.curves().isEmpty(), "no probabilities, no curves");

        // Counts add: two halves merged equal the whole.
        ConfusionMatrix halves = ConfusionMatrix.of(preds.subList(0, 9)).plus(ConfusionMatrix.of(preds.subList(9, 22)));
        assertEquals(r.confusion(), halves);
        assertEquals(r, ClassifierMetrics.fromConfusion(halves, null, Map.of()));
    }

    static void assertClass(ClassifierMetrics.ClassStats s, double p, double r, double f1, long support) {
        assertEquals(p, s.precision(), 1e-15);
        assertEquals(r, s.recall(), 1e-15);
        assertEquals(f1, s.f1(), 1e-15);
        assertEquals(support, s.support());
    }

    /**
     * Spam scores with ties (P = spam, N = ham), predicted spam where the score is above 0.55:
     * 0.9 P, 0.8 P, 0.8 N, 0.6 P, 0.5 N, 0.5 P, 0.5 N, 0.2 N.
     *
     * <p>AUC by Mann-Whitney over the 4 x 4 (positive, negative) pairs, 1 when the positive scores higher, 1/2 on a
     * tie: 0.9 beats all 4; 0.8 ties one 0.8 and beats 3 (3.5); 0.6 beats 3; 0.5 ties two and beats 0.2 (2):
     * 12.5 / 16 = 0.78125. The same by trapezoids over the ROC points (0,0) (0,.25) (.25,.5) (.25,.75) (.75,1) (1,1).
     * Average precision, sum of (R_k - R_{k-1}) P_k over the thresholds 0.9, 0.8, 0.6, 0.5, 0.2 with (P, R) =
     * (1, 1/4), (2/3, 2/4), (3/4, 3/4), (4/7, 1), (1/2, 1): (1 + 2/3 + 3/4 + 4/7) / 4 = 251/336. F1 of spam at the
     * hard predictions: TP 3, FP 1, FN 1, so P = R = F1 = 3/4.
     */
    @Test
    void tiedScoresByHand() {
        double[] s = {0.9, 0.8, 0.8, 0.6, 0.5, 0.5, 0.5, 0.2};
        boolean[] spam = {true, true, false, true, false, true, false, false};
        List<Prediction> preds = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            preds.add(new Prediction("m" + i, spam[i] ? "spam" : "ham", s[i] > 0.55 ? "spam" : "ham",
                    Map.of("spam", s[i], "ham", 1 - s[i])));
        }
        ClassifierMetrics r = ClassifierMetrics.of(preds, "spam");
        Curves c = r.curves().get("spam");
        assertEquals(0.78125, c.rocAuc(), 1e-15);
        assertEquals(mannWhitney(s, spam), c.rocAuc(), 1e-15);
        assertEquals(251.0 / 336, c.averagePrecision(), 1e-15);
        assertEquals(0.75, r.positiveStats().f1(), 1e-15);
        assertEquals(0.75, r.positiveStats().precision(), 1e-15);
        assertEquals(r.curves().keySet(), Set.of("spam"), "a binary task draws the positive class's curves");

        // One point per distinct score (5), plus the start point.
        assertEquals(List.of(new Curves.Point(Double.POSITIVE_INFINITY, 0, 0), new Curves.Point(0.9, 0, 0.25),
                new Curves.Point(0.8, 0.25, 0.5), new Curves.Point(0.6, 0.25, 0.75), new Curves.Point(0.5, 0.75, 1),
                new Curves.Point(0.2, 1, 1)), c.roc());
        assertEquals(6, c.pr().size());
        assertEquals(new Curves.Point(0.5, 4.0 / 7, 1), c.pr().get(4));

        // Without a positive class, one-vs-rest: ham's score is 1 - spam's, so its AUC is the same.
        ClassifierMetrics ovr = ClassifierMetrics.of(preds, null);
        assertEquals(0.78125, ovr.curves().get("ham").rocAuc(), 1e-12);
        assertEquals(0.78125, ovr.macroRocAuc(), 1e-12);
    }

    @Test
    void toMapIsPlainJson() throws Exception {
        List<Prediction> preds = List.of(new Prediction("1", "spam", "spam", Map.of("spam", 0.9, "ham", 0.1)),
                new Prediction("2", "ham", "spam", Map.of("spam", 0.6, "ham", 0.4)),
                new Prediction("3", "ham", "ham", Map.of("spam", 0.2, "ham", 0.8)));
        Map<String, Object> m = ClassifierMetrics.of(preds, "spam").toMap();
        String json = new ObjectMapper().writeValueAsString(m);
        JsonNode n = new ObjectMapper().readTree(json);
        assertEquals(2.0 / 3, n.at("/accuracy").asDouble(), 1e-15);
        assertEquals(1.0, n.at("/per_class/spam/roc_auc").asDouble(), 1e-15);
        assertEquals(1, n.at("/confusion_matrix/rows_true_columns_predicted/0/1").asLong(), "ham predicted as spam");
        assertTrue(n.at("/curves/spam/roc_fpr_tpr/0/0").isNull(), "the +inf threshold is null, not Infinity");
        assertEquals(4, n.at("/curves/spam/roc_fpr_tpr").size());
    }

    @Test
    void constantScoresGiveHalfAucAndThePrevalenceAsAveragePrecision() {
        Curves c = Curves.of(new double[]{0.3, 0.3, 0.3, 0.3, 0.3}, new boolean[]{true, false, false, true, false});
        assertEquals(0.5, c.rocAuc(), 1e-15);
        assertEquals(0.4, c.averagePrecision(), 1e-15);
        assertEquals(2, c.roc().size());
        assertTrue(Double.isNaN(Curves.of(new double[]{0.1, 0.2}, new boolean[]{true, true}).rocAuc()));
    }

    @Test
    void multiclassOneVsRestMatchesMannWhitney() {
        String[] truth = {"a", "b", "c", "a", "b", "c", "a"};
        double[][] p = {{.6, .3, .1}, {.2, .5, .3}, {.3, .3, .4}, {.3, .4, .3}, {.3, .3, .4}, {.1, .1, .8}, {.5, .25, .25}};
        List<Prediction> preds = new ArrayList<>();
        String[] l = {"a", "b", "c"};
        for (int i = 0; i < truth.length; i++) {
            int arg = p[i][0] >= p[i][1] && p[i][0] >= p[i][2] ? 0 : p[i][1] >= p[i][2] ? 1 : 2;
            preds.add(new Prediction("d" + i, truth[i], l[arg], Map.of("a", p[i][0], "b", p[i][1], "c", p[i][2])));
        }
        ClassifierMetrics r = ClassifierMetrics.of(preds, null);
        double sum = 0;
        for (int k = 0; k < 3; k++) {
            double[] s = new double[truth.length];
            boolean[] pos = new boolean[truth.length];
            for (int i = 0; i < truth.length; i++) {
                s[i] = p[i][k];
                pos[i] = truth[i].equals(l[k]);
            }
            assertEquals(mannWhitney(s, pos), r.curves().get(l[k]).rocAuc(), 1e-12, l[k]);
            sum += mannWhitney(s, pos);
        }
        assertEquals(sum / 3, r.macroRocAuc(), 1e-12);
    }

    @Test
    void badInputIsRefused() {
        List<Prediction> three = List.of(new Prediction("1", "a", "b", Map.of()), new Prediction("2", "c", "a", Map.of()));
        assertThrows(IllegalArgumentException.class, () -> ClassifierMetrics.of(three, "a"), "3 labels with a positive class");
        assertThrows(IllegalArgumentException.class, () -> ClassifierMetrics.of(three.subList(0, 1), "spam"), "unknown positive");
        assertThrows(IllegalArgumentException.class, () -> ClassifierMetrics.of(List.of(), null));
        assertThrows(IllegalArgumentException.class, () -> ClassifierMetrics.of(List.of(
                new Prediction("1", "a", "a", Map.of("a", 0.9)), new Prediction("2", "a", "a", Map.of())), null));
    }

    /** P(positive's score > negative's), ties 1/2, over all pairs. */
    static double mannWhitney(double[] s, boolean[] pos) {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < s.length; i++) {
            for (int j = 0; j < s.length; j++) {
                if (pos[i] && !pos[j]) {
                    pairs++;
                    wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                }
            }
        }
        return wins / pairs;
    }
}
