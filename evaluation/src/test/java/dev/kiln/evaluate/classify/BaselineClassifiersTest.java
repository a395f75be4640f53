package dev.kiln.evaluate.classify;

import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The baselines on real SpamAssassin mail preprocessed by Kiln: messages 00001-00099 of each of the five folders
 * (198 spam, 297 ham of which 99 hard), read as mail (bodies only), filtered and deduplicated, then split by
 * cluster 60/20/20 (preprocessing keeps one representative per near-duplicate cluster).
 */
class BaselineClassifiersTest {
    @TempDir
    static Path tmp;

    @Test
    void tfidfLogisticRegressionBeatsTheMajorityClassOnSpamAssassin() throws Exception {
        SparkSession spark = LocalSpark.get();
        // Globbed in place (not copied): document ids hash the source path, so a fixed path gives the same
        // clusters, the same split and the same numbers on every run.
        String mails = SampleCorpora.spamAssassin() + "/*/000[0-9][0-9].*.txt";
        Path out = tmp.resolve("preprocessed");
        PreprocessConfig pre = PreprocessRuns.config("input.paths", mails, "input.format", "mail",
                "filter.min-words", "20", "output.path", out.toString());
        PreprocessPipeline.run(spark, pre, TestLineage.preprocess(spark));

        ClassifyConfig cfg = ClassifyConfig.from(KilnConfig.load(null, Map.of(
                "kiln.evaluate.classify.positive-label", "spam",
                "kiln.evaluate.classify.splits.train", "0.6",
                "kiln.evaluate.classify.splits.validation", "0.2",
                "kiln.evaluate.classify.splits.test", "0.2",
                // A shorter grid and fewer iterations than the defaults keep the test quick on two cores.
                "kiln.evaluate.classify.logistic-regression.reg-params", "[0.01, 0.1, 1.0]",
                "kiln.evaluate.classify.logistic-regression.max-iter", "50")));
        Dataset<Row> docs = spark.read().parquet(out.resolve("documents").toString());
        long start = System.nanoTime();
        BaselineClassifiers.Result r = BaselineClassifiers.run(spark, out.resolve("documents").toString(), cfg);
        double seconds = (System.nanoTime() - start) / 1e9;

        ClassifierMetrics maj = r.majority();
        ClassifierMetrics lr = r.tfidf();
        System.out.printf("SpamAssassin subset: %d documents after preprocessing, per split %s, train labels %s%n",
                docs.count(), r.documents(), r.trainLabelCounts());
        System.out.printf("validation macro-F1 per regParam %s, selected %s (%.1f s)%n", r.validationMacroF1(), r.selectedRegParam(), seconds);
        for (var e : Map.of("majority (" + r.majorityLabel() + ")", maj, "tfidf-logistic-regression", lr).entrySet()) {
            ClassifierMetrics m = e.getValue();
            System.out.printf("%-28s test n %d: accuracy %.4f, macro-F1 %.4f, weighted-F1 %.4f, spam P %.4f R %.4f F1 %.4f,"
                            + " ROC AUC %.4f, AP %.4f, confusion %s %s%n", e.getKey(), m.n(), m.accuracy(), m.macro().f1(),
                    m.weighted().f1(), m.positiveStats().precision(), m.positiveStats().recall(), m.positiveStats().f1(),
                    m.curves().get("spam").rocAuc(), m.curves().get("spam").averagePrecision(), m.labels(), m.confusion().rows());
        }

        assertEquals(docs.count(), r.documents().values().stream().mapToLong(Long::longValue).sum() + r.unlabelled());
        assertEquals(0, r.unlabelled());
        assertEquals(List.of("ham", "spam"), List.copyOf(r.trainLabelCounts().keySet()));
        assertEquals("ham", r.majorityLabel());
        assertEquals(r.documents().get("test").longValue(), lr.n());
        assertEquals(lr.n(), maj.n());
        // The majority class scores every document the same: AUC exactly 1/2, average precision the spam share.
        assertEquals(0.5, maj.curves().get("spam").rocAuc(), 1e-12);
        assertEquals(0.0, maj.positiveStats().f1());
        // A wide margin: far above the majority class on accuracy, macro-F1 and AUC.
        assertTrue(1 - lr.accuracy() < (1 - maj.accuracy()) / 2, "accuracy " + lr.accuracy() + " vs majority " + maj.accuracy());
        assertTrue(lr.macro().f1() > 0.85 && lr.macro().f1() > maj.macro().f1() + 0.4, "macro-F1 " + lr.macro().f1() + " vs " + maj.macro().f1());
        assertTrue(lr.curves().get("spam").rocAuc() > 0.9, "ROC AUC " + lr.curves().get("spam").rocAuc());
        assertEquals(cfg.regParams().size(), r.validationMacroF1().size());
    }
}
