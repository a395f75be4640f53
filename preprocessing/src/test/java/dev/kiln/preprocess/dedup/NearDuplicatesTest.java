package dev.kiln.preprocess.dedup;

import dev.kiln.samples.SampleCorpora;
import dev.kiln.testing.InjectedDuplicates;
import dev.kiln.testing.LocalSpark;
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
        MinHashConfig cfg = MinHashConfig.words(5, 128, 0.5);
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

    @Test
    void estimatedSimilarityWithoutVerificationStillSeparatesDuplicates() {
        List<InjectedDuplicates.Doc> docs = InjectedDuplicates.generate(SampleCorpora.sotu(), 600, 200, 0.3, 11);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        JavaPairRDD<String, String> input = jsc.parallelize(docs.stream().map(d -> new Tuple2<>(d.id(), d.text())).toList(), 4)
                .mapToPair(t -> t);
        MinHashConfig v = MinHashConfig.words(5, 128, 0.5);
        MinHashConfig cfg = new MinHashConfig(v.ngram(), 5, 128, v.bands(), v.rows(), 0.5, 0.99, false, 1, 100, 64);
        InjectedDuplicates.Score score = InjectedDuplicates.score(docs, NearDuplicates.find(input, cfg, 4).labels().collectAsMap());
        assertTrue(score.precision() >= 0.9 && score.recall() >= 0.9, score.toString());
    }
}
