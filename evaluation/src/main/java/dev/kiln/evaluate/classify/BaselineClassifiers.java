package dev.kiln.evaluate.classify;

import dev.kiln.metrics.ClassifierMetrics;
import dev.kiln.metrics.Prediction;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.HashingTF;
import org.apache.spark.ml.feature.IDF;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

/**
 * The classifier baselines a fine-tuned model must beat, trained and scored in one Spark job on the same
 * leakage-free split ({@link ClusterSplits}) and scored by Kiln's own {@link ClassifierMetrics}:
 * <ul>
 *   <li><b>majority</b>: always the most frequent train label (the first in label order on a tie), with the train
 *       label frequencies as its probabilities (every score tied, so ROC AUC 0.5);</li>
 *   <li><b>tfidf-logistic-regression</b>: Spark MLlib {@code RegexTokenizer} (lowercase, split at {@code \W+}) ->
 *       {@code HashingTF} -> {@code IDF} fitted on train, then {@code LogisticRegression} fitted on train for each
 *       regParam of the grid; the one with the best validation macro-F1 is scored on test.</li>
 * </ul>
 * MLlib's own evaluators are deliberately not used: {@code BinaryClassificationEvaluator} bins the scores to 1,000
 * thresholds unless {@code numBins = 0} (an approximate AUC), and {@code MulticlassClassificationEvaluator}'s
 * {@code f1} is the support-weighted F1, not macro-F1.
 */
public final class BaselineClassifiers {
    public static final String MAJORITY = "majority";
    public static final String TFIDF_LR = "tfidf-logistic-regression";

    /**
     * What the baselines did and scored.
     *
     * @param documents         labelled documents per split (train, validation, test)
     * @param unlabelled        documents without the label field, not used
     * @param trainLabelCounts  train documents per label, in label order
     * @param majorityLabel     the majority baseline's constant prediction
     * @param majority          the majority baseline on test
     * @param validationMacroF1 per regParam, the TF-IDF + LR validation macro-F1 (grid order)
     * @param selectedRegParam  the regParam scored on test
     * @param tfidf             TF-IDF + LR on test
     * @param tfidfPredictions  its test predictions, sorted by id
     */
    public record Result(Map<String, Long> documents, long unlabelled, Map<String, Long> trainLabelCounts,
                         String majorityLabel, ClassifierMetrics majority, Map<Double, Double> validationMacroF1,
                         double selectedRegParam, ClassifierMetrics tfidf, List<Prediction> tfidfPredictions) implements Serializable {
    }

    private BaselineClassifiers() {
    }

    /** Reads a documents folder (Parquet with id, text, metadata, cluster_id: a `kiln preprocess` output's documents/). */
    public static Result run(SparkSession spark, String documentsFolder, ClassifyConfig cfg) {
        return run(spark.read().parquet(documentsFolder), cfg);
    }

    public static Result run(Dataset<Row> documents, ClassifyConfig cfg) {
        for (String c : List.of("id", "text", "metadata", "cluster_id")) {
            if (!List.of(documents.columns()).contains(c)) {
                throw new IllegalArgumentException("documents have no column " + c + " (columns: " + String.join(", ", documents.columns())
                        + "); expected the Parquet `kiln preprocess` writes (id, source, text, metadata, hash, cluster_id)");
            }
        }
        ClusterSplits splits = cfg.splits();
        UserDefinedFunction splitOf = udf((UDF1<String, String>) splits::splitOf, DataTypes.StringType);
        Dataset<Row> withLabel = documents.select(col("id"), col("text"), col("cluster_id"),
                col("metadata").getItem(cfg.labelField()).as("label"));
        Dataset<Row> labelled = withLabel.filter(col("label").isNotNull())
                .withColumn("split", splitOf.apply(col("cluster_id"))).cache();
        try {
            long unlabelled = withLabel.filter(col("label").isNull()).count();
            Map<String, Long> perSplit = new LinkedHashMap<>();
            for (String s : List.of(ClusterSplits.TRAIN, ClusterSplits.VALIDATION, ClusterSplits.TEST)) {
                perSplit.put(s, 0L);
            }
            for (Row r : labelled.groupBy("split").count().collectAsList()) {
                perSplit.put(r.getString(0), r.getLong(1));
            }
            perSplit.forEach((s, n) -> {
                if (n == 0) {
                    throw new IllegalArgumentException("no labelled documents (metadata key \"" + cfg.labelField() + "\") in the "
                            + s + " split: " + perSplit + ", " + unlabelled + " unlabelled; expected every split to have some");
                }
            });
            Dataset<Row> train = labelled.filter(col("split").equalTo(ClusterSplits.TRAIN));
            Dataset<Row> validation = labelled.filter(col("split").equalTo(ClusterSplits.VALIDATION));
            Dataset<Row> test = labelled.filter(col("split").equalTo(ClusterSplits.TEST));

            Map<String, Long> labelCounts = new TreeMap<>();
            for (Row r : train.groupBy("label").count().collectAsList()) {
                labelCounts.put(r.getString(0), r.getLong(1));
            }
            List<String> labels = List.copyOf(labelCounts.keySet());
            if (labels.size() < 2) {
                throw new IllegalArgumentException("the train split has " + labels.size() + " label(s) " + labels
                        + "; a classifier needs at least two");
            }
            String positive = cfg.positiveLabel();
            // Checked before any model is trained: a wrong positive class would otherwise fail only at scoring.
            if (positive != null && (!labels.contains(positive) || labels.size() != 2)) {
                throw new IllegalArgumentException("kiln.evaluate.classify.positive-label = \"" + positive + "\" expects a binary task"
                        + " with that label, but the train split has the labels " + labels + "; leave it blank for one-vs-rest metrics");
            }
            String majorityLabel = labels.stream().max(Comparator.comparingLong((String l) -> labelCounts.get(l))
                    .thenComparing(Comparator.<String>reverseOrder())).orElseThrow();
            long trainN = perSplit.get(ClusterSplits.TRAIN);
            Map<String, Double> priors = new TreeMap<>();
            labelCounts.forEach((l, n) -> priors.put(l, (double) n / trainN));
            List<Prediction> majorityPreds = new ArrayList<>();
            for (Row r : test.select("id", "label").collectAsList()) {
                majorityPreds.add(new Prediction(r.getString(0), r.getString(1), majorityLabel, priors));
            }
            majorityPreds.sort(Comparator.comparing(Prediction::id));
            ClassifierMetrics majority = ClassifierMetrics.of(majorityPreds, positive);

            // TF-IDF fitted once on train: it does not depend on the regularisation.
            UserDefinedFunction labelIndex = udf((UDF1<String, Double>) l -> (double) labels.indexOf(l), DataTypes.DoubleType);
            PipelineModel features = new Pipeline().setStages(new PipelineStage[]{
                    new RegexTokenizer().setInputCol("text").setOutputCol("words").setPattern("\\W+").setToLowercase(true),
                    new HashingTF().setInputCol("words").setOutputCol("tf").setNumFeatures(cfg.numFeatures()),
                    new IDF().setInputCol("tf").setOutputCol("features").setMinDocFreq(cfg.minDocFreq())}).fit(train);
            Dataset<Row> trainFeatures = features.transform(train).withColumn("label_index", labelIndex.apply(col("label")))
                    .select("label_index", "features").cache();
            Dataset<Row> validationFeatures = features.transform(validation).select("id", "label", "features").cache();
            Dataset<Row> testFeatures = features.transform(test).select("id", "label", "features");
            try {
                Map<Double, Double> validationF1 = new LinkedHashMap<>();
                LogisticRegressionModel best = null;
                double bestF1 = -1;
                double bestReg = Double.NaN;
                for (double reg : cfg.regParams()) {
                    LogisticRegressionModel model = new LogisticRegression().setLabelCol("label_index").setFeaturesCol("features")
                            .setRegParam(reg).setElasticNetParam(cfg.elasticNetParam()).setMaxIter(cfg.maxIter())
                            .fit(trainFeatures);
                    double f1 = ClassifierMetrics.of(predict(model, validationFeatures, labels), positive).macro().f1();
                    validationF1.put(reg, f1);
                    if (f1 > bestF1) {
                        bestF1 = f1;
                        best = model;
                        bestReg = reg;
                    }
                }
                List<Prediction> tfidfPreds = predict(best, testFeatures, labels);
                return new Result(perSplit, unlabelled, labelCounts, majorityLabel, majority, validationF1, bestReg,
                        ClassifierMetrics.of(tfidfPreds, positive), tfidfPreds);
            } finally {
                trainFeatures.unpersist();
                validationFeatures.unpersist();
            }
        } finally {
            labelled.unpersist();
        }
    }

    /** The model's predictions with label names and per-label probabilities, collected to the driver, sorted by id. */
    static List<Prediction> predict(LogisticRegressionModel model, Dataset<Row> featuresWithIdAndLabel, List<String> labels) {
        List<Prediction> out = new ArrayList<>();
        for (Row r : model.transform(featuresWithIdAndLabel).select("id", "label", "prediction", "probability").collectAsList()) {
            Vector p = r.getAs(3);
            Map<String, Double> probabilities = new TreeMap<>();
            for (int i = 0; i < labels.size(); i++) {
                probabilities.put(labels.get(i), p.apply(i));
            }
            out.add(new Prediction(r.getString(0), r.getString(1), labels.get((int) r.getDouble(2)), probabilities));
        }
        out.sort(Comparator.comparing(Prediction::id));
        return out;
    }
}
