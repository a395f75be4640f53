package dev.kiln.evaluate.classify;

import dev.kiln.tokenize.DocumentSplit;

import java.io.Serializable;

/**
 * Train/validation/test assignment of labelled documents by their near-duplicate cluster: the SHA-256 of
 * {@code cluster_id} read as a number u in [0, 1) (the same mapping {@code kiln tokenize} uses for documents), then
 * u < train is train, u < train + validation is validation, the rest test. A pure function of the cluster id, so
 * every member of a cluster (a document and its near-duplicates) lands in one split, and reruns, other cluster
 * sizes and other jobs that use the same fractions agree.
 *
 * @param train      fraction of clusters for training
 * @param validation fraction for model selection (the baseline's regularisation)
 * @param test       fraction that is scored; the three add up to 1
 */
public record ClusterSplits(double train, double validation, double test) implements Serializable {
    public static final String TRAIN = "train";
    public static final String VALIDATION = "validation";
    public static final String TEST = "test";

    public ClusterSplits {
        if (!(train >= 0 && validation >= 0 && test >= 0) || Math.abs(train + validation + test - 1) > 1e-9) {
            throw new IllegalArgumentException("split fractions must be >= 0 and add up to 1, got train " + train
                    + ", validation " + validation + ", test " + test);
        }
    }

    /** "train", "validation" or "test" for a document of this near-duplicate cluster. */
    public String splitOf(String clusterId) {
        double u = DocumentSplit.unit(clusterId);
        if (u < train) {
            return TRAIN;
        }
        return u < train + validation ? VALIDATION : TEST;
    }
}
