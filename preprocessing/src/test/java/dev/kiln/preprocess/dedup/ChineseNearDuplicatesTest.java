package dev.kiln.preprocess.dedup;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.testing.ChineseDuplicates;
import dev.kiln.testing.InjectedDuplicates;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Near duplicates in Chinese: a corpus of real Tang poems (chinese-poetry) with injected copies of known kinds
 * ({@link ChineseDuplicates}: exact, spacing and punctuation changes, 1-5% character edits), scored pairwise.
 */
class ChineseNearDuplicatesTest {
    private static List<InjectedDuplicates.Doc> docs;

    @TempDir
    Path tmp;

    @BeforeAll
    static void corpus() {
        List<String> poems = ChineseDuplicates.poems(SampleCorpora.chinesePoetry().resolve("quantangshi"), "poet.tang.", 3000);
        docs = ChineseDuplicates.generate(poems, 300, 0.3, 5);
    }

    /**
     * Why dictionary word 3-grams: exact Jaccard, all pairs, threshold 0.5. Word n-grams skip punctuation and spaces;
     * character n-grams see them, so the copies with spacing and punctuation changes fall below the cut; word 5-grams
     * (the English size) span 7-8 Chinese characters and lose copies with 5% edits.
     */
    @Test
    void dictionaryWordTrigramsSeparateTheCopiesAndCharacterNgramsDoNot() {
        InjectedDuplicates.Score word3 = allPairs(t -> Shingles.words(t, 3, 3));
        InjectedDuplicates.Score word5 = allPairs(t -> Shingles.words(t, 5, 5));
        InjectedDuplicates.Score char3 = allPairs(t -> Shingles.chars(t, 3));
        InjectedDuplicates.Score char5 = allPairs(t -> Shingles.chars(t, 5));
        System.out.printf(Locale.ROOT, "chinese near-dup, %d docs, exact Jaccard >= 0.5:%n  word 3-grams %s%n  word 5-grams %s%n"
                + "  char 3-grams %s%n  char 5-grams %s%n", docs.size(), word3, word5, char3, char5);
        assertTrue(word3.precision() >= 0.99 && word3.recall() >= 0.99, word3.toString());
        assertTrue(char3.recall() < word3.recall() && char5.recall() < word3.recall() && word5.recall() < word3.recall());
    }

    private static InjectedDuplicates.Score allPairs(Function<String, long[]> shingles) {
        long[][] sets = docs.stream().map(d -> shingles.apply(d.text())).toArray(long[][]::new);
        int[] parent = new int[docs.size()];
        for (int i = 0; i < parent.length; i++) {
            parent[i] = i;
        }
        for (int i = 0; i < sets.length; i++) {
            for (int j = i + 1; j < sets.length; j++) {
                if (Shingles.jaccard(sets[i], sets[j]) >= 0.5) {
                    int a = root(parent, i);
                    int b = root(parent, j);
                    parent[Math.max(a, b)] = Math.min(a, b);
                }
            }
        }
        Map<String, String> cluster = new HashMap<>();
        for (int i = 0; i < docs.size(); i++) {
            cluster.put(docs.get(i).id(), docs.get(root(parent, i)).id());
        }
        return InjectedDuplicates.score(docs, cluster);
    }

    private static int root(int[] parent, int i) {
        while (parent[i] != i) {
            i = parent[i] = parent[parent[i]];
        }
        return i;
    }

    /** The real job on local[2] with the default minhash settings: every document kept, clusters scored. */
    @Test
    void theJobFindsTheInjectedChineseCopiesWithPrecisionAndRecallOfAtLeast099() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (InjectedDuplicates.Doc d : docs) {
            lines.add(json.writeValueAsString(Map.of("id", d.id(), "text", d.text())));
        }
        Files.write(in.resolve("zh.jsonl"), lines);
        Path out = tmp.resolve("out");
        PreprocessConfig cfg = PreprocessRuns.config("input.paths", "[\"" + in + "\"]", "input.id-field", "id",
                "output.path", out.toString(), "filter.enabled", "false", "dedup.keep", "all");
        PreprocessPipeline.run(LocalSpark.get(), cfg, TestLineage.preprocess(LocalSpark.get()));
        Map<String, String> sourceIdOf = new HashMap<>();
        Map<String, String> clusterOf = new HashMap<>();
        for (Row r : LocalSpark.get().read().parquet(out.resolve("documents").toString())
                .selectExpr("id", "metadata['source_id']", "cluster_id", "metadata['language']").collectAsList()) {
            sourceIdOf.put(r.getString(0), r.getString(1));
            clusterOf.put(r.getString(1), r.getString(2));
            assertTrue("zh".equals(r.getString(3)), r.getString(1) + " identified as " + r.getString(3));
        }
        Map<String, String> byGeneratedId = new HashMap<>();
        clusterOf.forEach((id, cluster) -> byGeneratedId.put(id, sourceIdOf.get(cluster)));
        assertTrue(byGeneratedId.size() == docs.size(), byGeneratedId.size() + " of " + docs.size() + " documents written");
        InjectedDuplicates.Score score = InjectedDuplicates.score(docs, byGeneratedId);
        System.out.println("chinese near-dup through kiln preprocess on local[2], " + docs.size() + " docs: " + score);
        assertTrue(score.truePairs() > 300, "the corpus has injected duplicates");
        assertTrue(score.precision() >= 0.99 && score.recall() >= 0.99, score.toString());
    }
}
