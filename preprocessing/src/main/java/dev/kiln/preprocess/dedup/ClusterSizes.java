package dev.kiln.preprocess.dedup;

import org.apache.spark.api.java.JavaRDD;

import java.io.Serializable;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

/**
 * How many duplicate clusters there are of each size, sizes bucketed as 2, 3-4, 5-8, 9-16, ... (clusters of one
 * document are not counted). Mergeable: two histograms add bucket by bucket.
 *
 * @param clustersBySize clusters per size bucket, smallest bucket first
 */
public record ClusterSizes(Map<String, Long> clustersBySize) implements Serializable {
    private static final Comparator<String> BY_BUCKET_START = Comparator.comparingLong(ClusterSizes::bucketStart);
    public static final ClusterSizes NONE = new ClusterSizes(Map.of());

    public ClusterSizes {
        TreeMap<String, Long> sorted = new TreeMap<>(BY_BUCKET_START);
        sorted.putAll(clustersBySize);
        clustersBySize = Collections.unmodifiableSortedMap(sorted);
    }

    /** The histogram of {@code sizes} (documents per cluster), counted by Spark (one action). */
    public static ClusterSizes of(JavaRDD<Long> sizes) {
        return new ClusterSizes(sizes.filter(n -> n > 1).map(ClusterSizes::sizeBucket).countByValue());
    }

    /** Clusters of two documents or more, all sizes together. */
    public long clusters() {
        return clustersBySize.values().stream().mapToLong(Long::longValue).sum();
    }

    public ClusterSizes plus(ClusterSizes o) {
        Map<String, Long> sum = new TreeMap<>(clustersBySize);
        o.clustersBySize.forEach((bucket, n) -> sum.merge(bucket, n, Long::sum));
        return new ClusterSizes(sum);
    }

    /** The bucket of a cluster of {@code n} documents: "2", or "lo-hi" with hi the smallest power of two >= n. */
    public static String sizeBucket(long n) {
        if (n <= 2) {
            return "2";
        }
        long hi = Long.highestOneBit(n - 1) << 1; // smallest power of two >= n
        long lo = hi / 2 + 1;
        return lo + "-" + hi;
    }

    private static long bucketStart(String bucket) {
        int dash = bucket.indexOf('-');
        return Long.parseLong(dash < 0 ? bucket : bucket.substring(0, dash));
    }
}
