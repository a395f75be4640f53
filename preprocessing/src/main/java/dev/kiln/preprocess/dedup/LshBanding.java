package dev.kiln.preprocess.dedup;

/**
 * The LSH "S-curve": with b bands of r rows, two documents of Jaccard similarity s share at least one band bucket
 * with probability {@code 1 - (1 - s^r)^b}.
 */
public final class LshBanding {
    private LshBanding() {
    }

    public static double candidateProbability(double similarity, int bands, int rows) {
        return 1 - Math.pow(1 - Math.pow(similarity, rows), bands);
    }

    /**
     * {bands, rows} for {@code permutations} MinHash values: the largest r (fewest false candidates, since the curve
     * gets steeper) for which a pair exactly at {@code threshold} is still a candidate with probability at least
     * {@code targetRecall}, with b = permutations / r bands. Pairs above the threshold are then caught even more surely;
     * the false candidates below it cost only verification work.
     */
    public static int[] derive(double threshold, int permutations, double targetRecall) {
        int bestRows = 1;
        for (int r = 1; r <= permutations; r++) {
            int b = permutations / r;
            if (candidateProbability(threshold, b, r) >= targetRecall) {
                bestRows = r;
            }
        }
        return new int[]{permutations / bestRows, bestRows};
    }
}
