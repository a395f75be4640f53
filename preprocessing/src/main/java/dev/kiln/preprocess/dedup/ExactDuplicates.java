package dev.kiln.preprocess.dedup;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.Optional;

/**
 * Exact dedup on Spark: documents with the same normalised-text hash ({@link TextHash}) form a group whose
 * representative is the lowest id; a hash that an earlier run already published marks the whole group as
 * duplicates of that earlier document. Generic over the document type, as {@link NearDuplicates} is over
 * (id, text) pairs: the caller says how to read a document's id.
 */
public final class ExactDuplicates {
    private ExactDuplicates() {
    }

    /** A document and its exact group. */
    public sealed interface Member<T> extends Serializable {
        T doc();

        /** The lowest id in the document's group (the document's own id when it is the representative). */
        String representative();

        /** No earlier run published this hash. */
        record New<T>(T doc, String representative) implements Member<T> {
        }

        /** An earlier run published this hash, as document {@code earlier}. */
        record OfEarlier<T>(T doc, String representative, String earlier) implements Member<T> {
        }
    }

    /** Every document with its group, and the histogram of group sizes (groups of this run's documents only). */
    public record Result<T>(JavaRDD<Member<T>> members, ClusterSizes groups) {
    }

    /**
     * @param byHash        (normalised-text hash, document)
     * @param idOf          the document's id
     * @param earlierHashes (hash, id) of the documents earlier runs published, when there are earlier runs
     * @param partitions    shuffle partitions of the joins
     */
    public static <T> Result<T> find(JavaPairRDD<String, T> byHash, Function<T, String> idOf,
                                     Optional<JavaPairRDD<String, String>> earlierHashes, int partitions) {
        // (hash, (lowest id, group size))
        JavaPairRDD<String, Tuple2<String, Long>> reps = byHash
                .mapToPair(t -> new Tuple2<>(t._1(), new Tuple2<>(idOf.call(t._2()), 1L)))
                .reduceByKey((a, b) -> new Tuple2<>(lowest(a._1(), b._1()), a._2() + b._2()), partitions)
                .persist(StorageLevel.MEMORY_AND_DISK());
        ClusterSizes groups = ClusterSizes.of(reps.values().map(Tuple2::_2));
        JavaPairRDD<String, Member<T>> byHashMembers = byHash.join(reps)
                .mapToPair(t -> new Tuple2<>(t._1(), new Member.New<>(t._2()._1(), t._2()._2()._1())));
        JavaRDD<Member<T>> members = byHashMembers.values();
        if (earlierHashes.isPresent()) {
            JavaPairRDD<String, String> earlierReps = earlierHashes.get().reduceByKey(ExactDuplicates::lowest, partitions);
            members = byHashMembers.leftOuterJoin(earlierReps, partitions)
                    .map(t -> {
                        Member<T> m = t._2()._1();
                        return t._2()._2().isPresent() ? new Member.OfEarlier<>(m.doc(), m.representative(), t._2()._2().get()) : m;
                    });
        }
        return new Result<>(members, groups);
    }

    private static String lowest(String a, String b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
