package dev.kiln.preprocess;

import dev.kiln.common.log.Progress;
import dev.kiln.preprocess.PreprocessStats.Counts;
import dev.kiln.preprocess.PreprocessStats.Flow;
import dev.kiln.preprocess.dedup.ClusterSizes;
import dev.kiln.preprocess.dedup.DedupIndex;
import dev.kiln.preprocess.dedup.NearDuplicates;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import static dev.kiln.preprocess.PreprocessPipeline.NEAR_DUPLICATE;
import static dev.kiln.preprocess.PreprocessPipeline.NEAR_DUPLICATE_OF_EARLIER_RUN;

/**
 * The near-dedup phase of a preprocess run, over the new exact representatives: MinHash + LSH + connected components
 * ({@link NearDuplicates}); a new document similar to one an earlier run kept is dropped and does not link new
 * clusters. Input: the exact phase's {@link ExactDedup.Result}, the earlier runs' index (and their documents' texts,
 * read only if near dedup runs), the shuffle partitions; output: {@link Result}.
 */
final class NearDedup {
    private NearDedup() {
    }

    /**
     * All documents with their final clusters (persisted when near dedup ran), the stage's stats, the representatives,
     * the new representatives' MinHash signatures for the index (when near dedup ran) and what frees near dedup's
     * cached data once the index is written.
     */
    record Result(JavaRDD<Clustered> docs, PreprocessStats.NearStage stage, Counts representatives,
                  Optional<JavaPairRDD<String, int[]>> signatures, Runnable release) {
    }

    /** {@code earlierTexts}: (id, text) of every document earlier runs wrote, asked for only when near dedup runs. */
    static Result run(PreprocessConfig cfg, ExactDedup.Result exact, Optional<Dataset<Row>> earlierIndex,
                      Supplier<JavaPairRDD<String, String>> earlierTexts, int partitions) {
        Counts in = exact.representatives();
        Progress progress = new Progress("preprocess: near dedup", in.documents(), in.bytes());
        JavaRDD<Clustered> clustered = exact.docs();
        Optional<JavaPairRDD<String, int[]>> signatures = Optional.empty();
        Optional<PreprocessStats.NearFindings> findings = Optional.empty();
        Runnable release = () -> { };
        if (cfg.dedup().near()) {
            JavaPairRDD<String, String> idText = exact.docs().filter(Clustered::isRepresentative)
                    .mapToPair(x -> new Tuple2<>(x.id(), x.p().document().text()));
            NearDuplicates.Earlier earlierDocs = earlierIndex
                    .map(index -> new NearDuplicates.Earlier(DedupIndex.signatures(index), earlierTexts.get()))
                    .orElse(null);
            NearDuplicates.Result nd = NearDuplicates.find(idText, earlierDocs, cfg.minhash(), partitions);
            clustered = withNearClusters(exact, nd, partitions);
            // Cluster sizes: a label names the cluster a document joins, so a cluster is its labels plus its representative.
            ClusterSizes clusters = ClusterSizes.of(nd.labels().mapToPair(t -> new Tuple2<>(t._2(), 1L))
                    .reduceByKey(Long::sum).values().map(n -> n + 1));
            findings = Optional.of(new PreprocessStats.NearFindings(nd.candidatePairs(), nd.similarPairs(), nd.oversizedBuckets(),
                    nd.rounds(), nd.earlierCandidatePairs(), nd.earlierSimilarPairs(), clusters));
            signatures = Optional.of(nd.signatures());
            release = nd.release();
        }
        DedupOutcomes after = DedupOutcomes.of(clustered);
        progress.add(in.documents(), in.bytes());
        progress.done();
        PreprocessStats.NearStage stage = new PreprocessStats.NearStage(new Flow(in, after.representatives()), progress.elapsedSeconds(),
                after.removed(List.of(NEAR_DUPLICATE, NEAR_DUPLICATE_OF_EARLIER_RUN)), cfg.dedup().near(), cfg.minhash(), findings);
        return new Result(clustered, stage, after.representatives(), signatures, release);
    }

    /** Every document of the exact phase, each new representative moved into its near cluster (persisted). */
    private static JavaRDD<Clustered> withNearClusters(ExactDedup.Result exact, NearDuplicates.Result nd, int partitions) {
        // (exact representative id, (cluster, reason)) for every new representative that is not its own cluster
        JavaPairRDD<String, Tuple2<String, String>> outcome = nd.labels().mapValues(l -> new Tuple2<>(l, NEAR_DUPLICATE))
                .union(nd.earlierMatches().mapValues(o -> new Tuple2<>(o, NEAR_DUPLICATE_OF_EARLIER_RUN)));
        return exact.docs().mapToPair(x -> new Tuple2<>(x.exactRep(), x)).leftOuterJoin(outcome, partitions)
                .map(t -> {
                    Clustered x = t._2()._1();
                    org.apache.spark.api.java.Optional<Tuple2<String, String>> o = t._2()._2();
                    return o.isPresent() ? x.near(o.get()._1(), o.get()._2()) : x;
                })
                .persist(StorageLevel.MEMORY_AND_DISK());
    }
}
