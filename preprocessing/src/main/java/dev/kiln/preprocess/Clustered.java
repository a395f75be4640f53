package dev.kiln.preprocess;

import dev.kiln.preprocess.dedup.ExactDuplicates;

import java.io.Serializable;

import static dev.kiln.preprocess.PreprocessPipeline.EXACT_DUPLICATE;
import static dev.kiln.preprocess.PreprocessPipeline.EXACT_DUPLICATE_OF_EARLIER_RUN;

/**
 * A kept document with its exact-duplicate group and, after near dedup, its final cluster (an earlier run's
 * document for a duplicate of one). {@code reason}: why it is not written as a representative, null when it is one.
 */
record Clustered(Processed.Kept p, String exactRep, String cluster, String reason) implements Serializable {

    static Clustered exact(Processed.Kept p, String exactRep) {
        return new Clustered(p, exactRep, exactRep, p.document().id().equals(exactRep) ? null : EXACT_DUPLICATE);
    }

    /** The document of an exact group; a group whose hash an earlier run published duplicates that run's document. */
    static Clustered of(ExactDuplicates.Member<Processed.Kept> m) {
        Clustered c = exact(m.doc(), m.representative());
        return m instanceof ExactDuplicates.Member.OfEarlier<Processed.Kept> e ? c.duplicateOf(e.earlier(), EXACT_DUPLICATE_OF_EARLIER_RUN) : c;
    }

    String id() {
        return p.document().id();
    }

    boolean isRepresentative() {
        return reason == null;
    }

    /** The whole exact group duplicates {@code earlierId}, a document an earlier run published. */
    Clustered duplicateOf(String earlierId, String why) {
        return new Clustered(p, exactRep, earlierId, why);
    }

    /**
     * Near dedup put this document's exact representative into {@code newCluster} ({@code why}: near_duplicate, or
     * near_duplicate_of_earlier_run when that cluster is an earlier run's document). Exact duplicates keep their
     * reason and follow their representative.
     */
    Clustered near(String newCluster, String why) {
        if (reason != null) {
            return reason.equals(EXACT_DUPLICATE) ? new Clustered(p, exactRep, newCluster, reason) : this;
        }
        return new Clustered(p, exactRep, newCluster, newCluster.equals(id()) ? null : why);
    }
}
