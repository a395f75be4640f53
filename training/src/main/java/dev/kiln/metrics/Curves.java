package dev.kiln.metrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Exact ROC and precision-recall curves of one score against one positive class, from all scores sorted (no
 * binning: fine at evaluation scale). One point per distinct score, thresholds descending; a point counts every
 * example whose score is at least its threshold, so tied scores enter together.
 *
 * <p>ROC AUC is the trapezoidal area under the ROC points, which equals the Mann-Whitney statistic
 * P(score of a random positive > score of a random negative) with ties counting 1/2. Average precision is
 * scikit-learn's {@code average_precision_score}: sum over thresholds of (R_k - R_{k-1}) P_k, a step function
 * with no interpolation (not the trapezoidal area under the PR curve, which is optimistic).
 *
 * @param roc              (threshold, FPR, TPR), from (+inf, 0, 0) to (lowest score, 1, 1)
 * @param pr               (threshold, precision, recall), from scikit-learn's extra point (+inf, 1, 0) to the lowest score
 * @param rocAuc           area under {@code roc}; NaN without positives or without negatives
 * @param averagePrecision NaN without positives
 * @param positives        examples of the positive class
 * @param negatives        the others
 */
public record Curves(List<Point> roc, List<Point> pr, double rocAuc, double averagePrecision, long positives,
                     long negatives) implements Serializable {

    /** One point of a curve: ROC (threshold, FPR, TPR) or PR (threshold, precision, recall). */
    public record Point(double threshold, double x, double y) implements Serializable {
    }

    public Curves {
        roc = List.copyOf(roc);
        pr = List.copyOf(pr);
    }

    /** The curves of {@code scores} (higher = more positive) against {@code positive}, index by index. */
    public static Curves of(double[] scores, boolean[] positive) {
        if (scores.length != positive.length) {
            throw new IllegalArgumentException(scores.length + " scores for " + positive.length + " labels");
        }
        Integer[] order = new Integer[scores.length];
        long pos = 0;
        for (int i = 0; i < scores.length; i++) {
            if (Double.isNaN(scores[i])) {
                throw new IllegalArgumentException("score " + i + " is NaN");
            }
            order[i] = i;
            pos += positive[i] ? 1 : 0;
        }
        long neg = scores.length - pos;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> scores[i]).reversed());

        List<Point> roc = new ArrayList<>();
        List<Point> pr = new ArrayList<>();
        roc.add(new Point(Double.POSITIVE_INFINITY, 0, 0));
        pr.add(new Point(Double.POSITIVE_INFINITY, 1, 0));
        long tp = 0;
        long fp = 0;
        double auc = 0;
        double ap = 0;
        double prevFpr = 0;
        double prevTpr = 0;
        for (int k = 0; k < order.length; ) {
            double threshold = scores[order[k]];
            // Take every example tied at this score before emitting the point.
            while (k < order.length && scores[order[k]] == threshold) {
                if (positive[order[k]]) {
                    tp++;
                } else {
                    fp++;
                }
                k++;
            }
            double fpr = neg == 0 ? Double.NaN : (double) fp / neg;
            double tpr = pos == 0 ? Double.NaN : (double) tp / pos;
            double precision = (double) tp / (tp + fp);
            roc.add(new Point(threshold, fpr, tpr));
            pr.add(new Point(threshold, precision, tpr));
            auc += (fpr - prevFpr) * (tpr + prevTpr) / 2;
            ap += (tpr - prevTpr) * precision;
            prevFpr = fpr;
            prevTpr = tpr;
        }
        return new Curves(roc, pr, pos == 0 || neg == 0 ? Double.NaN : auc, pos == 0 ? Double.NaN : ap, pos, neg);
    }
}
