package dev.kiln.finetune;

/**
 * Accuracy and macro F1 (the unweighted mean of the per-class F1; a class never predicted and never true counts
 * as F1 = 0 only if it is in the label set and has true examples; classes absent from both are left out).
 * Spark MLlib's multiclass "f1" is the support-weighted mean, which hides a weak minority class: macro F1 does not.
 */
public record ClassificationMetrics(int examples, double accuracy, double macroF1, double[] precision, double[] recall,
                                    double[] f1, double meanLoss) {

    public static ClassificationMetrics of(int[] truth, int[] predicted, int classes, double lossSum) {
        if (truth.length != predicted.length) {
            throw new IllegalArgumentException(truth.length + " labels, " + predicted.length + " predictions");
        }
        long[] tp = new long[classes], fp = new long[classes], fn = new long[classes];
        int correct = 0;
        for (int i = 0; i < truth.length; i++) {
            if (truth[i] == predicted[i]) {
                correct++;
                tp[truth[i]]++;
            } else {
                fp[predicted[i]]++;
                fn[truth[i]]++;
            }
        }
        double[] p = new double[classes], r = new double[classes], f = new double[classes];
        double sum = 0;
        int present = 0;
        for (int k = 0; k < classes; k++) {
            p[k] = tp[k] + fp[k] == 0 ? 0 : tp[k] / (double) (tp[k] + fp[k]);
            r[k] = tp[k] + fn[k] == 0 ? 0 : tp[k] / (double) (tp[k] + fn[k]);
            f[k] = p[k] + r[k] == 0 ? 0 : 2 * p[k] * r[k] / (p[k] + r[k]);
            if (tp[k] + fp[k] + fn[k] > 0) {
                sum += f[k];
                present++;
            }
        }
        int n = truth.length;
        return new ClassificationMetrics(n, n == 0 ? Double.NaN : correct / (double) n,
                present == 0 ? Double.NaN : sum / present, p, r, f, n == 0 ? Double.NaN : lossSum / n);
    }
}
