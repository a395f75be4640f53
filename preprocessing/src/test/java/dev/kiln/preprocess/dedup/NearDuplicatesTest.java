package dev.kiln.preprocess.dedup;

import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.testing.InjectedDuplicates;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The near-dup stage on Spark against a SOTU-based corpus with injected duplicates of known edit rates. */
class NearDuplicatesTest {

    @Test
    void findsInjectedNearDuplicatesWithHighPrecisionAndRecall() {
        List<InjectedDuplicates.Doc> docs = InjectedDuplicates.generate(SampleCorpora.sotu(), 600, 500, 0.3, 7);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        JavaPairRDD<String, String> input = jsc.parallelize(docs.stream().map(d -> new Tuple2<>(d.id(), d.text())).toList(), 4)
                .mapToPair(t -> t);
        MinHashConfig cfg = PreprocessRuns.minhash();
        NearDuplicates.Result r = NearDuplicates.find(input, cfg, 4);
        Map<String, String> labels = r.labels().collectAsMap(); // test only: the product never collects labels
        InjectedDuplicates.Score score = InjectedDuplicates.score(docs, labels);
        System.out.println("near-dup on " + docs.size() + " docs: " + score + ", candidates " + r.candidatePairs()
                + ", similar " + r.similarPairs() + ", rounds " + r.rounds());
        assertTrue(score.truePairs() > 100, "the corpus has injected duplicates");
        assertTrue(score.precision() >= 0.95, score.toString());
        assertTrue(score.recall() >= 0.95, score.toString());
        // Every label is the smallest id of its cluster.
        labels.forEach((id, rep) -> assertTrue(rep.compareTo(id) < 0, id + " -> " + rep));
        assertEquals(docs.size(), r.documents());
    }

    /**
     * Earlier runs published originals 0-99; the new documents are their injected copies plus originals 100-199 with
     * copies. Copies of published originals are matched to them (verified and estimated), nothing else is, and the
     * matched documents take no part in the new clusters.
     */
    @Test
    void matchesNewDocumentsToTheirPublishedOriginals() {
        List<InjectedDuplicates.Doc> docs = InjectedDuplicates.generate(SampleCorpora.sotu(), 600, 200, 0.4, 13);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        MinHashConfig v = PreprocessRuns.minhash();
        for (MinHashConfig cfg : List.of(v, new MinHashConfig(v.ngram(), 5, 128, v.bands(), v.rows(), 0.5, 0.99, false, 1, 100, 64, 5))) {
            MinHasher hasher = new MinHasher(cfg);
            List<InjectedDuplicates.Doc> published = docs.stream().filter(d -> d.original() < 100 && d.kind().equals("original")).toList();
            List<InjectedDuplicates.Doc> fresh = docs.stream().filter(d -> !published.contains(d)).toList();
            NearDuplicates.Earlier earlier = new NearDuplicates.Earlier(
                    jsc.parallelize(published.stream().map(d -> new Tuple2<>(d.id(), hasher.signature(Shingles.of(d.text(), cfg.ngram(), 5)))).toList(), 2)
                            .mapToPair(t -> t),
                    jsc.parallelize(published.stream().map(d -> new Tuple2<>(d.id(), d.text())).toList(), 2).mapToPair(t -> t));
            JavaPairRDD<String, String> input = jsc.parallelize(fresh.stream().map(d -> new Tuple2<>(d.id(), d.text())).toList(), 4)
                    .mapToPair(t -> t);
            NearDuplicates.Result r = NearDuplicates.find(input, earlier, cfg, 4);
            Map<String, String> matches = r.earlierMatches().collectAsMap();
            Map<String, String> labels = r.labels().collectAsMap();
            long copiesOfPublished = fresh.stream().filter(d -> d.original() < 100).count();
            for (Map.Entry<String, String> m : matches.entrySet()) {
                InjectedDuplicates.Doc d = fresh.stream().filter(x -> x.id().equals(m.getKey())).findFirst().orElseThrow();
                assertEquals(String.format("doc-%05d-0", d.original()), m.getValue(), "matched to its own original: " + d);
                assertTrue(!labels.containsKey(m.getKey()), "a matched document is in no new cluster: " + m.getKey());
            }
            assertTrue(matches.size() >= 0.95 * copiesOfPublished, matches.size() + " of " + copiesOfPublished + " copies matched, verify " + cfg.verify());
            assertEquals(fresh.size(), r.documents());
            r.release().run();
        }
    }

    @Test
    void estimatedSimilarityWithoutVerificationStillSeparatesDuplicates() {
        List<InjectedDuplicates.Doc> docs = InjectedDuplicates.generate(SampleCorpora.sotu(), 600, 200, 0.3, 11);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        JavaPairRDD<String, String> input = jsc.parallelize(docs.stream().map(d -> new Tuple2<>(d.id(), d.text())).toList(), 4)
                .mapToPair(t -> t);
        MinHashConfig v = PreprocessRuns.minhash();
        MinHashConfig cfg = new MinHashConfig(v.ngram(), 5, 128, v.bands(), v.rows(), 0.5, 0.99, false, 1, 100, 64, 5);
        InjectedDuplicates.Score score = InjectedDuplicates.score(docs, NearDuplicates.find(input, cfg, 4).labels().collectAsMap());
        assertTrue(score.precision() >= 0.9 && score.recall() >= 0.9, score.toString());
    }
}
