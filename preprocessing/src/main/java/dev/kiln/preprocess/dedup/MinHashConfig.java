package dev.kiln.preprocess.dedup;

import dev.kiln.common.config.Settings;

import java.io.Serializable;

/**
 * {@code kiln.preprocess.minhash}: shingling, signature length, LSH banding and the similarity cut.
 * {@link #bands()} and {@link #rows()} are always resolved (derived from the threshold when the config gave 0).
 */
public record MinHashConfig(Shingling ngram, int ngramSize, int permutations, int bands, int rows, double threshold,
                            double targetRecall, boolean verify, long seed, int maxBucketSize, int maxRounds,
                            int unspacedNgramSize) implements Serializable {

    public enum Shingling { WORD, CHAR }

    public MinHashConfig {
        if (bands * rows > permutations || bands < 1 || rows < 1) {
            throw new IllegalArgumentException("bands x rows (" + bands + " x " + rows + ") must be positive and fit in " + permutations + " permutations");
        }
    }

    public static MinHashConfig from(Settings s) {
        Shingling ngram = s.enumValue("ngram", Shingling.class);
        int size = s.intIn("ngram-size", 1, 1000);
        int perms = s.intIn("permutations", 1, 10_000);
        int bands = s.nonNegativeInt("bands");
        int rows = s.nonNegativeInt("rows");
        double threshold = s.doubleIn("threshold", 0.01, 1.0);
        double target = s.doubleIn("target-recall", 0.5, 0.999999);
        s.require((bands == 0) == (rows == 0), "bands", "give both bands and rows, or neither (0 and 0) to derive them from the threshold");
        if (bands == 0) {
            int[] br = LshBanding.derive(threshold, perms, target);
            bands = br[0];
            rows = br[1];
        }
        s.require(bands * rows <= perms, "bands", "bands x rows (" + bands + " x " + rows + ") must not exceed permutations (" + perms + ")");
        return new MinHashConfig(ngram, size, perms, bands, rows, threshold, target, s.bool("verify"),
                s.longIn("seed", Long.MIN_VALUE, Long.MAX_VALUE), s.intIn("max-bucket-size", 2, 1_000_000), s.intIn("max-rounds", 1, 10_000),
                s.intIn("unspaced-ngram-size", 1, 1000));
    }
}
