package dev.kiln.preprocess.dedup;

import org.apache.spark.HashPartitioner;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Near-duplicate clusters by MinHash + LSH on Spark. Per document (plain Java, in the tasks): shingles and signature.
 * Then: band buckets (one shuffle of ids), candidate pairs within buckets (distinct), each pair checked (exact Jaccard
 * of the shingle sets, or the signature estimate) with two joins against the features (partitioned once, so only
 * the pairs move), and clusters by distributed {@link ConnectedComponents}. The driver only ever sees counts.
 */
public final class NearDuplicates {
    private NearDuplicates() {
    }

    /** Per-document data the pair checks need: the shingle set when verifying, else the signature. */
    record Features(long[] shingles, int[] signature) implements Serializable {
    }

    /**
     * @param labels           (id, representative id) for every document in a cluster of two or more (representative
     *                         = smallest id); documents not listed are their own cluster
     * @param candidatePairs   distinct pairs that shared an LSH bucket
     * @param similarPairs     candidate pairs at or above the threshold (the graph's edges)
     * @param oversizedBuckets buckets larger than max-bucket-size (chained instead of all pairs)
     * @param rounds           connected-components rounds
     */
    public record Result(JavaPairRDD<String, String> labels, long documents, long candidatePairs, long similarPairs,
                         long oversizedBuckets, int rounds) {
    }

    public static Result find(JavaPairRDD<String, String> idAndText, MinHashConfig c, int partitions) {
        SparkContext sc = idAndText.context();
        // Counters instead of extra Spark jobs: every RDD below is computed once (features are persisted, the edges
        // are persisted by the connected components before their first use).
        LongAccumulator documents = sc.longAccumulator("near-dup documents");
        LongAccumulator oversized = sc.longAccumulator("near-dup oversized buckets");
        LongAccumulator candidates = sc.longAccumulator("near-dup candidate pairs");
        MinHasher hasher = new MinHasher(c);
        boolean verify = c.verify();
        JavaPairRDD<String, Features> features = idAndText
                .mapValues(text -> Shingles.of(text, c.ngram(), c.ngramSize()))
                .filter(t -> t._2().length > 0)
                .mapValues(sh -> {
                    documents.add(1);
                    int[] sig = hasher.signature(sh);
                    return verify ? new Features(sh, sig) : new Features(null, sig);
                })
                .partitionBy(new HashPartitioner(partitions))
                .persist(StorageLevel.MEMORY_AND_DISK());

        int maxBucket = c.maxBucketSize();
        JavaPairRDD<String, String> candidatePairs = features
                .flatMapToPair(t -> {
                    long[] keys = hasher.bandKeys(t._2().signature());
                    List<Tuple2<Long, String>> out = new ArrayList<>(keys.length);
                    for (long k : keys) {
                        out.add(new Tuple2<>(k, t._1()));
                    }
                    return out.iterator();
                })
                .groupByKey(partitions)
                .flatMapToPair(b -> {
                    List<String> ids = new ArrayList<>();
                    b._2().forEach(ids::add);
                    if (ids.size() > maxBucket) {
                        oversized.add(1);
                    }
                    return pairs(ids, maxBucket).iterator();
                })
                .distinct(partitions);

        double threshold = c.threshold();
        JavaPairRDD<String, String> similar = candidatePairs
                .join(features)
                .mapToPair(t -> new Tuple2<>(t._2()._1(), new Tuple2<>(t._1(), t._2()._2())))
                .join(features)
                .filter(t -> {
                    candidates.add(1);
                    Features fa = t._2()._1()._2();
                    Features fb = t._2()._2();
                    double sim = verify ? Shingles.jaccard(fa.shingles(), fb.shingles())
                            : MinHasher.estimatedJaccard(fa.signature(), fb.signature());
                    return sim >= threshold;
                })
                .mapToPair(t -> new Tuple2<>(t._2()._1()._1(), t._1()));

        ConnectedComponents.Result cc = ConnectedComponents.run(similar, partitions, c.maxRounds());
        features.unpersist(false);
        return new Result(cc.labels(), documents.value(), candidates.value(), cc.edges(), oversized.value(), cc.rounds());
    }

    /**
     * All pairs (smaller id first) of a bucket; a bucket larger than {@code maxBucket} is linked as a chain in id
     * order instead, so one giant bucket (a template mailed a million times) costs n-1 checks, not n^2/2.
     */
    static List<Tuple2<String, String>> pairs(List<String> ids, int maxBucket) {
        Collections.sort(ids);
        List<Tuple2<String, String>> out = new ArrayList<>();
        if (ids.size() > maxBucket) {
            for (int i = 1; i < ids.size(); i++) {
                if (!ids.get(i).equals(ids.get(i - 1))) {
                    out.add(new Tuple2<>(ids.get(i - 1), ids.get(i)));
                }
            }
            return out;
        }
        for (int i = 0; i < ids.size(); i++) {
            for (int j = i + 1; j < ids.size(); j++) {
                if (!ids.get(i).equals(ids.get(j))) {
                    out.add(new Tuple2<>(ids.get(i), ids.get(j)));
                }
            }
        }
        return out;
    }
}
