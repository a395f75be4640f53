package dev.kiln.preprocess;

import dev.kiln.common.log.Progress;
import dev.kiln.preprocess.PreprocessStats.Counts;
import dev.kiln.preprocess.PreprocessStats.Flow;
import dev.kiln.preprocess.dedup.ClusterSizes;
import dev.kiln.preprocess.dedup.DedupIndex;
import dev.kiln.preprocess.dedup.ExactDuplicates;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.util.List;
import java.util.Optional;

import static dev.kiln.preprocess.PreprocessPipeline.EXACT_DUPLICATE;
import static dev.kiln.preprocess.PreprocessPipeline.EXACT_DUPLICATE_OF_EARLIER_RUN;

/**
 * The exact-dedup phase of a preprocess run: one representative (lowest id) per normalised-text hash
 * ({@link ExactDuplicates}); a hash the earlier runs' index holds drops the whole group. Input: the documents the
 * filters kept, the earlier runs' index, the shuffle partitions; output: {@link Result}.
 */
final class ExactDedup {
    private ExactDedup() {
    }

    /** This run's kept documents with their exact groups (persisted), the stage's stats and the representatives. */
    record Result(JavaRDD<Clustered> docs, PreprocessStats.ExactStage stage, Counts representatives) {
    }

    static Result run(PreprocessConfig cfg, DocumentPass.Result pass, Optional<Dataset<Row>> earlierIndex, int partitions) {
        Counts kept = pass.kept();
        Progress progress = new Progress("preprocess: exact dedup", kept.documents(), kept.bytes());
        JavaRDD<Processed.Kept> keptDocs = pass.keptDocuments();
        JavaRDD<Clustered> docs;
        ClusterSizes groups = ClusterSizes.NONE;
        if (cfg.dedup().exact()) {
            ExactDuplicates.Result<Processed.Kept> found = ExactDuplicates.find(keptDocs.mapToPair(p -> new Tuple2<>(p.hash(), p)),
                    p -> p.document().id(), earlierIndex.map(DedupIndex::hashes), partitions);
            groups = found.groups();
            docs = found.members().map(Clustered::of);
        } else {
            docs = keptDocs.map(p -> Clustered.exact(p, p.document().id()));
        }
        docs = docs.persist(StorageLevel.MEMORY_AND_DISK());
        DedupOutcomes after = DedupOutcomes.of(docs);
        progress.add(kept.documents(), kept.bytes());
        progress.done();
        PreprocessStats.ExactStage stage = new PreprocessStats.ExactStage(new Flow(kept, after.representatives()), progress.elapsedSeconds(),
                after.removed(List.of(EXACT_DUPLICATE, EXACT_DUPLICATE_OF_EARLIER_RUN)), cfg.dedup().exact(), groups);
        return new Result(docs, stage, after.representatives());
    }
}
