package dev.kiln.documents;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * How a preprocess output's dedup index signatures were made ({@code kiln.preprocess.minhash}), as each run manifest
 * records it; a later run must make them the same way. {@code near} false: the snapshot holds no signatures.
 * {@code shingling}: word or char n-grams ({@code kiln.preprocess.minhash.ngram}). {@code unspacedNgramSize}: word
 * n-gram size of dictionary-segmented text (Chinese, Japanese, Thai, ...); 0 in indexes written before Kiln segmented
 * those scripts, which any value extends (their few documents in those scripts were shingled by letter runs, and match
 * new ones less well).
 */
public record IndexSpec(boolean near, String shingling, int ngramSize, int permutations, long seed, int unspacedNgramSize) implements Serializable {
    /**
     * Why a run configured as {@code current} cannot extend an index made as {@code this}, naming the keys; null
     * when it can. Only near dedup reads signatures, so a run without it accepts any index.
     */
    public String incompatibility(IndexSpec current) {
        if (!current.near()) {
            return null;
        }
        if (!near) {
            return "kiln.preprocess.dedup.near is true, but the earlier runs' index was built without near dedup (no signatures)";
        }
        List<String> diffs = new ArrayList<>();
        if (!shingling.equals(current.shingling())) {
            diffs.add("kiln.preprocess.minhash.ngram " + shingling + " -> " + current.shingling());
        }
        if (ngramSize != current.ngramSize()) {
            diffs.add("kiln.preprocess.minhash.ngram-size " + ngramSize + " -> " + current.ngramSize());
        }
        if (unspacedNgramSize != 0 && unspacedNgramSize != current.unspacedNgramSize()) {
            diffs.add("kiln.preprocess.minhash.unspaced-ngram-size " + unspacedNgramSize + " -> " + current.unspacedNgramSize());
        }
        if (permutations != current.permutations()) {
            diffs.add("kiln.preprocess.minhash.permutations " + permutations + " -> " + current.permutations());
        }
        if (seed != current.seed()) {
            diffs.add("kiln.preprocess.minhash.seed " + seed + " -> " + current.seed());
        }
        return diffs.isEmpty() ? null : "the earlier runs' index signatures were made differently: " + String.join(", ", diffs);
    }
}
