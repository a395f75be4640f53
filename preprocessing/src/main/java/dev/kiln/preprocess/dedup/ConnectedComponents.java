package dev.kiln.preprocess.dedup;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;

/**
 * Connected components of an undirected graph given as an edge RDD, fully distributed: the alternating Large-Star /
 * Small-Star algorithm of Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014), which converges
 * in O(log^2 n) rounds. No step collects edges or labels on the driver; each round is three shuffles of edges.
 *
 * <p>The result labels every node that has an edge with the smallest node id of its component, so the lowest id
 * represents its cluster and re-runs give the same labels.
 */
public final class ConnectedComponents {
    private ConnectedComponents() {
    }

    /** What the run produced: (node, smallest node of its component) for every node with an edge, and the rounds used. */
    public record Result(JavaPairRDD<String, String> labels, int rounds, long edges) {
    }

    public static Result run(JavaPairRDD<String, String> edges, int partitions, int maxRounds) {
        // Edges as (larger, smaller), self-loops and repeats removed.
        JavaPairRDD<String, String> e = edges
                .filter(t -> !t._1().equals(t._2()))
                .mapToPair(t -> t._1().compareTo(t._2()) > 0 ? t : new Tuple2<>(t._2(), t._1()))
                .distinct(partitions)
                .persist(StorageLevel.MEMORY_AND_DISK());
        long edgeCount = e.count();
        if (edgeCount == 0) {
            return new Result(e, 0, 0);
        }
        List<JavaPairRDD<String, String>> toRelease = new ArrayList<>();
        toRelease.add(e);
        for (int round = 1; round <= maxRounds; round++) {
            JavaPairRDD<String, String> large = largeStar(e, partitions);
            JavaPairRDD<String, String> small = smallStar(large, partitions).persist(StorageLevel.MEMORY_AND_DISK());
            long violations = notYetStars(small, partitions);
            for (JavaPairRDD<String, String> old : toRelease) {
                old.unpersist(false);
            }
            toRelease.clear();
            toRelease.add(small);
            if (violations == 0) {
                return new Result(small, round, edgeCount);
            }
            e = small;
        }
        throw new IllegalStateException("connected components did not converge in " + maxRounds
                + " rounds (kiln.preprocess.minhash.max-rounds)");
    }

    /** The smallest of {@code first} and {@code others}. */
    static String min(String first, Iterable<String> others) {
        String m = first;
        for (String v : others) {
            if (v.compareTo(m) < 0) {
                m = v;
            }
        }
        return m;
    }

    /** For each node u with m = min(u and its neighbours): every neighbour larger than u is linked to m instead. */
    static JavaPairRDD<String, String> largeStar(JavaPairRDD<String, String> e, int partitions) {
        return e.flatMapToPair(t -> List.of(t, new Tuple2<>(t._2(), t._1())).iterator())
                .groupByKey(partitions)
                .flatMapToPair(g -> {
                    String u = g._1();
                    String m = min(u, g._2());
                    List<Tuple2<String, String>> out = new ArrayList<>();
                    for (String v : g._2()) {
                        if (v.compareTo(u) > 0) {
                            out.add(new Tuple2<>(v, m));
                        }
                    }
                    return out.iterator();
                });
    }

    /** For each node u with m = min of its smaller neighbours: u and those neighbours are linked to m instead. */
    static JavaPairRDD<String, String> smallStar(JavaPairRDD<String, String> e, int partitions) {
        // Edges are (larger, smaller): keyed by the larger end, the values are exactly the smaller neighbours.
        return e.groupByKey(partitions)
                .flatMapToPair(g -> {
                    String u = g._1();
                    String m = min(u, g._2());
                    List<Tuple2<String, String>> out = new ArrayList<>();
                    if (!m.equals(u)) {
                        out.add(new Tuple2<>(u, m));
                    }
                    for (String v : g._2()) {
                        if (!v.equals(m)) {
                            out.add(new Tuple2<>(v, m));
                        }
                    }
                    return out.iterator();
                })
                .distinct(partitions);
    }

    /**
     * Nodes that keep the graph from being a set of stars around their minimum: a child with two different parents,
     * or a node that is both a child and a parent. Zero means every (child, parent) edge points at the component's minimum.
     */
    static long notYetStars(JavaPairRDD<String, String> e, int partitions) {
        // Per node: [smallest parent, largest parent, is a parent] (null parents when the node is only a parent).
        return e.flatMapToPair(t -> List.of(
                        new Tuple2<>(t._1(), new String[]{t._2(), t._2(), null}),
                        new Tuple2<>(t._2(), new String[]{null, null, "P"})).iterator())
                .reduceByKey((x, y) -> new String[]{min(x[0], y[0]), max(x[1], y[1]), x[2] != null ? x[2] : y[2]}, partitions)
                .filter(t -> {
                    String[] s = t._2();
                    boolean child = s[0] != null;
                    return child && (!s[0].equals(s[1]) || s[2] != null);
                })
                .count();
    }

    private static String min(String a, String b) {
        return a == null ? b : b == null ? a : a.compareTo(b) <= 0 ? a : b;
    }

    private static String max(String a, String b) {
        return a == null ? b : b == null ? a : a.compareTo(b) >= 0 ? a : b;
    }
}
