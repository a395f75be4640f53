package dev.kiln.preprocess.dedup;

import org.apache.spark.HashPartitioner;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * Near-duplicate clusters by MinHash + LSH on Spark. Per document (plain Java, in the tasks): shingles and signature.
 * Then: band buckets (one shuffle of ids), candidate pairs within buckets (distinct), each pair checked (exact Jaccard
 * of the shingle sets, or the signature estimate) with two joins against the features (partitioned once, so only
 * the pairs move), and clusters by distributed {@link ConnectedComponents}. The driver only ever sees counts.
 *
 * <p>With {@link Earlier} documents (published by earlier runs, never retracted), a new document that is similar to
 * any of them is matched to the lowest such id and takes no part in the clustering of the new documents, so it
 * cannot link two new clusters; the caller drops it. The new documents left are clustered among themselves.
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
                         long oversizedBuckets, int rounds, JavaPairRDD<String, String> earlierMatches,
                         long earlierCandidatePairs, long earlierSimilarPairs, JavaPairRDD<String, int[]> signatures,
                         Runnable release) {
    }

    /**
     * Documents published by earlier runs: their signatures (from the dedup index) and, for verification, a way to
     * their texts (only the candidates' texts are read).
     */
    public record Earlier(JavaPairRDD<String, int[]> signatures, JavaPairRDD<String, String> texts) {
    }

    public static Result find(JavaPairRDD<String, String> idAndText, MinHashConfig c, int partitions) {
        return find(idAndText, null, c, partitions);
    }

    /**
     * @return also {@code earlierMatches}: (new id, lowest similar earlier id) for every new document similar to an
     * earlier one; and {@code signatures} of the new documents (persisted until {@code release} runs)
     */
    public static Result find(JavaPairRDD<String, String> idAndText, Earlier earlier, MinHashConfig c, int partitions) {
        SparkContext sc = idAndText.context();
        // Counters instead of extra Spark jobs: every RDD below is computed once (features are persisted, the edges
        // are persisted by the connected components before their first use).
        LongAccumulator documents = sc.longAccumulator("near-dup documents");
        LongAccumulator oversized = sc.longAccumulator("near-dup oversized buckets");
        LongAccumulator candidates = sc.longAccumulator("near-dup candidate pairs");
        MinHasher hasher = new MinHasher(c);
        boolean verify = c.verify();
        JavaPairRDD<String, Features> features = idAndText
                .mapValues(text -> Shingles.of(text, c))
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

        JavaPairRDD<String, String> earlierMatches = JavaPairRDD.fromJavaRDD(
                JavaSparkContext.fromSparkContext(sc).<Tuple2<String, String>>emptyRDD());
        LongAccumulator earlierCandidates = sc.longAccumulator("near-dup candidate pairs with earlier runs");
        LongAccumulator earlierSimilar = sc.longAccumulator("near-dup similar pairs with earlier runs");
        if (earlier != null) {
            earlierMatches = matchEarlier(features, earlier, hasher, c, partitions, earlierCandidates, earlierSimilar)
                    .persist(StorageLevel.MEMORY_AND_DISK());
            // A new document matched to an earlier one is dropped, so its edges must not join two new clusters.
            similar = similar.subtractByKey(earlierMatches, partitions)
                    .mapToPair(Tuple2::swap).subtractByKey(earlierMatches, partitions).mapToPair(Tuple2::swap);
        }
        ConnectedComponents.Result cc = ConnectedComponents.run(similar, partitions, c.maxRounds());
        earlierMatches.count(); // materialise the earlier-run counters before they are read
        JavaPairRDD<String, String> matches = earlierMatches;
        return new Result(cc.labels(), documents.value(), candidates.value(), cc.edges(), oversized.value(), cc.rounds(),
                earlierMatches, earlierCandidates.value(), earlierSimilar.value(), features.mapValues(Features::signature),
                () -> {
                    features.unpersist(false);
                    cc.labels().unpersist(false);
                    matches.unpersist(false);
                });
    }

    /**
     * (new id, lowest similar earlier id): new and earlier documents that share a band bucket, checked like the new
     * pairs (exact Jaccard on the earlier text's shingles, or the signature estimate). A bucket with more than
     * max-bucket-size earlier documents is checked against its lowest max-bucket-size ids only (counted as oversized).
     */
    private static JavaPairRDD<String, String> matchEarlier(JavaPairRDD<String, Features> features, Earlier earlier, MinHasher hasher,
                                                            MinHashConfig c, int partitions, LongAccumulator candidates,
                                                            LongAccumulator similarCount) {
        int maxBucket = c.maxBucketSize();
        JavaPairRDD<Long, String> newBands = features.flatMapToPair(t -> bandEntries(hasher, t._2().signature(), t._1()));
        JavaPairRDD<Long, String> oldBands = earlier.signatures().flatMapToPair(t -> bandEntries(hasher, t._2(), t._1()));
        // (earlier id, new id) candidate pairs
        JavaPairRDD<String, String> pairs = newBands.cogroup(oldBands, partitions)
                .flatMapToPair(b -> {
                    List<String> olds = new ArrayList<>();
                    b._2()._2().forEach(olds::add);
                    List<Tuple2<String, String>> out = new ArrayList<>();
                    if (olds.isEmpty()) {
                        return out.iterator();
                    }
                    Collections.sort(olds);
                    List<String> checked = olds.size() > maxBucket ? olds.subList(0, maxBucket) : olds;
                    for (String n : b._2()._1()) {
                        for (String o : checked) {
                            out.add(new Tuple2<>(o, n));
                        }
                    }
                    return out.iterator();
                })
                .distinct(partitions);
        boolean verify = c.verify();
        JavaPairRDD<String, Features> oldFeatures = verify
                ? earlier.texts().join(pairs.keys().distinct(partitions).mapToPair(id -> new Tuple2<>(id, Boolean.TRUE)), partitions)
                        .mapToPair(t -> new Tuple2<>(t._1(), new Features(Shingles.of(t._2()._1(), c), null)))
                : earlier.signatures().mapValues(sig -> new Features(null, sig));
        double threshold = c.threshold();
        return pairs.join(oldFeatures, partitions)
                .mapToPair(t -> new Tuple2<>(t._2()._1(), new Tuple2<>(t._1(), t._2()._2())))
                .join(features)
                .filter(t -> {
                    candidates.add(1);
                    Features fo = t._2()._1()._2();
                    Features fn = t._2()._2();
                    double sim = verify ? Shingles.jaccard(fo.shingles(), fn.shingles())
                            : MinHasher.estimatedJaccard(fo.signature(), fn.signature());
                    boolean similar = sim >= threshold;
                    if (similar) {
                        similarCount.add(1);
                    }
                    return similar;
                })
                .mapToPair(t -> new Tuple2<>(t._1(), t._2()._1()._1()))
                .reduceByKey((a, b) -> a.compareTo(b) <= 0 ? a : b, partitions);
    }

    private static Iterator<Tuple2<Long, String>> bandEntries(MinHasher hasher, int[] signature, String id) {
        long[] keys = hasher.bandKeys(signature);
        List<Tuple2<Long, String>> out = new ArrayList<>(keys.length);
        for (long k : keys) {
            out.add(new Tuple2<>(k, id));
        }
        return out.iterator();
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
