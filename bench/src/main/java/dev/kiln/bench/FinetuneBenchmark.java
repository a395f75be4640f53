package dev.kiln.bench;

import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.evaluate.classify.BaselineClassifiers;
import dev.kiln.evaluate.classify.ClassifyConfig;
import dev.kiln.finetune.CausalFinetuning;
import dev.kiln.finetune.FinetuneConfig;
import dev.kiln.finetune.Finetuning;
import dev.kiln.finetune.LabelledDocuments;
import dev.kiln.tokenize.Tokenize;
import dev.kiln.tokenize.TokenizeConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Classification fine-tune throughput and quality, all in one sitting on the demo's outputs:
 * <ol>
 *   <li>{@code kiln finetune} with one worker (the engine's in-process rounds, this JVM, one ND4J thread);</li>
 *   <li>the same with two workers over two Spark tasks on {@code local[2]} (parameter averaging);</li>
 *   <li>the same two workers, from the parent first adapted to mail: {@code kiln finetune task = causal} on the
 *       classifier's train-split mail only (domain-adaptive pre-training; no validation or test text);</li>
 *   <li>Spark MLlib's TF-IDF + logistic regression (the evaluate stage's baseline, its regParam chosen on validation)
 *       trained on the same cluster split of the same documents and scored on the same test documents.</li>
 * </ol>
 * Throughput is training rows (documents, or their windows) per second of the whole {@code Finetuning.run}
 * (reading and tokenizing the mail, the epochs, validation after each, the test split): what a user waits for. Aims: (2)/(1) near 2 on 2 cores; Kiln's
 * test macro-F1 at least MLlib's.
 *
 * <pre>bench/run FinetuneBenchmark [demo=.kiln/demo] [epochs=the demo's] [kiln.finetune.KEY=VALUE ...]</pre>
 * The fine-tunes use the demo's classifier settings ({@code conf/demo.conf}); the optional pairs override them.
 * Run {@code bin/kiln demo} first: it leaves {@code pretrain/} and {@code preprocessed/mail/} under the demo folder.
 */
public final class FinetuneBenchmark {
    private static final String DEMO_CONF = "conf/demo.conf";
    /** Causal steps of the adaptation: 2 workers x 16 x 128 tokens each, ~1.2 M tokens (a third of the mail's). */
    private static final int CAUSAL_STEPS = 300;

    public static void main(String[] args) throws Exception {
        File demo = new File(args.length > 0 ? args[0] : ".kiln/demo").getAbsoluteFile();
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("expected kiln.finetune.KEY=VALUE, got " + args[i]);
            }
            extra.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        int epochs = args.length > 1 ? Integer.parseInt(args[1])
                : KilnConfig.load(DEMO_CONF, Map.of()).getInt("kiln.finetune.epochs");
        File pretrain = new File(demo, "pretrain");
        File mail = new File(demo, "preprocessed/mail");
        if (!new File(pretrain, "checkpoints").isDirectory() || !new File(mail, "documents").isDirectory()) {
            throw new IllegalArgumentException("expected " + pretrain + "/checkpoints and " + mail
                    + "/documents: run bin/kiln demo first (or give its folder as the first argument)");
        }
        // One ND4J thread per worker, so one worker is one core's worth and two workers on local[2] are two.
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        SparkSession spark = SparkSession.builder().master("local[2]").appName("kiln finetune bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.executorEnv.OMP_NUM_THREADS", "1")
                .getOrCreate();
        try {
            Run one = finetune(spark, pretrain, mail, epochs, 1, extra);
            Run two = finetune(spark, pretrain, mail, epochs, 2, extra);
            long c0 = System.nanoTime();
            File adapted = adaptToMail(spark, demo, pretrain, mail);
            double adaptSeconds = (System.nanoTime() - c0) / 1e9;
            Map<String, String> fromAdapted = new LinkedHashMap<>(extra);
            fromAdapted.put("kiln.finetune.checkpoint", adapted.getPath());
            Run dapt = finetune(spark, pretrain, mail, epochs, 2, fromAdapted);
            long t0 = System.nanoTime();
            var ec = KilnConfig.load(null, Map.of());
            BaselineClassifiers.Result mllib = BaselineClassifiers.run(spark, new File(mail, "documents").getPath(),
                    ClassifyConfig.from(ec));
            double mllibSeconds = (System.nanoTime() - t0) / 1e9;

            System.out.println();
            System.out.printf(Locale.ROOT, "%-46s %9s %8s %10s %9s %9s%n", "", "rows", "seconds", "rows/s", "test acc",
                    "macro-F1");
            print("(1) kiln finetune, 1 worker, this JVM", one);
            print("(2) kiln finetune, 2 workers, local[2]", two);
            print("(3) the same from the parent adapted to mail", dapt);
            System.out.printf(Locale.ROOT, "%-46s %9s %8.1f %10s %9s %9s   (%d causal steps on the train split's mail)%n",
                    "    before (3): the causal adaptation, 2 workers", "", adaptSeconds, "", "", "", CAUSAL_STEPS);
            System.out.printf(Locale.ROOT, "%-46s %9d %8.1f %10s %9.4f %9.4f   (regParam %s, fit on the train split)%n",
                    "(4) MLlib TF-IDF + LogisticRegression", mllib.documents().get("train"), mllibSeconds, "-",
                    mllib.tfidf().accuracy(), mllib.tfidf().macro().f1(), mllib.selectedRegParam());
            System.out.printf(Locale.ROOT, "%-46s %9s %8s %10s %9.4f %9.4f%n", "    majority class", "", "", "",
                    mllib.majority().accuracy(), mllib.majority().macro().f1());
            System.out.printf(Locale.ROOT, "%nscaling (2)/(1) = %.2fx (aim: near 2 on 2 cores); test documents: Kiln %d, "
                            + "MLlib %d (same cluster split)%n", two.rowsPerSecond() / one.rowsPerSecond(),
                    two.result().test().n(), mllib.documents().get("test"));
            System.out.printf(Locale.ROOT, "macro-F1 Kiln (2 workers) - MLlib = %+.4f; from the adapted parent - MLlib = %+.4f "
                            + "(aim: >= 0)%n", two.result().test().macro().f1() - mllib.tfidf().macro().f1(),
                    dapt.result().test().macro().f1() - mllib.tfidf().macro().f1());
        } finally {
            spark.stop();
        }
    }

    /**
     * One fine-tune and its wall time; {@code trained}: rows seen by the optimiser (steps x workers x batch), a row
     * being a document, or one of its windows with {@code windows > 1}.
     */
    record Run(Finetuning.Result result, long trained, double seconds) {
        double rowsPerSecond() {
            return trained / seconds;
        }
    }

    static Run finetune(SparkSession spark, File pretrain, File mail, int epochs, int workers, Map<String, String> extra)
            throws Exception {
        Path out = Files.createTempDirectory("kiln-finetune-bench-" + workers + "w");
        // The demo's classifier settings (conf/demo.conf), then the paths, the epochs and the workers of this run, then
        // any key=value given on the command line.
        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.finetune.checkpoint", pretrain.getPath());
        o.put("kiln.finetune.documents", mail.getPath());
        o.put("kiln.finetune.output", out.toString());
        o.put("kiln.finetune.epochs", Integer.toString(epochs));
        o.put("kiln.finetune.parallel.workers", Integer.toString(workers));
        o.putAll(extra);
        var c = KilnConfig.load(DEMO_CONF, o); // var: under mvn verify this compiles against kiln.jar, whose Typesafe Config is relocated
        FinetuneConfig cfg = FinetuneConfig.from(c);
        long start = System.nanoTime();
        Finetuning.Result r = Finetuning.run(spark, cfg, Lineage.of("finetune", c, FinetuneConfig.SECTION, spark.version()), false);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(r, r.steps() * workers * cfg.batchSize(), seconds);
    }

    /**
     * Domain adaptation, as a user would run it: {@code kiln tokenize} of the classifier's train-split mail (the
     * cluster split's train documents only, so no validation or test text reaches the language model) with the
     * parent's tokenizer, then {@code kiln finetune task = causal} of the parent on those shards, 2 workers. Returns
     * the causal run's folder, the parent of run (3).
     */
    static File adaptToMail(SparkSession spark, File demo, File pretrain, File mail) throws Exception {
        Path work = Files.createTempDirectory("kiln-finetune-bench-adapt");
        var fc = KilnConfig.load(DEMO_CONF, Map.of("kiln.finetune.checkpoint", pretrain.getPath()));
        FinetuneConfig split = FinetuneConfig.from(fc);
        double validation = split.validationFraction(), test = split.testFraction();
        Dataset<Row> docs = spark.read().parquet(new File(mail, "documents").getPath());
        UDF1<String, Boolean> inTrain =
                key -> LabelledDocuments.TRAIN.equals(LabelledDocuments.splitOf(key, validation, test));
        spark.udf().register("kiln_bench_in_train", inTrain, DataTypes.BooleanType);
        String trainDocs = work.resolve("train-documents").toString();
        docs.filter(org.apache.spark.sql.functions.callUDF("kiln_bench_in_train",
                        org.apache.spark.sql.functions.coalesce(docs.col("cluster_id"), docs.col("hash"))))
                .write().parquet(trainDocs);

        Map<String, String> t = new LinkedHashMap<>();
        t.put("kiln.tokenize.input", trainDocs);
        t.put("kiln.tokenize.output", work.resolve("shards").toString());
        t.put("kiln.tokenize.tokenizer.path", new File(demo, "tokenized/tokenizer.json").getPath());
        t.put("kiln.tokenize.validation-fraction", "0.05");
        var tc = KilnConfig.load(DEMO_CONF, t); // the demo's context length, as the parent was trained
        Tokenize.run(spark, TokenizeConfig.from(tc), Lineage.of("tokenize", tc, TokenizeConfig.SECTION, spark.version()));

        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.finetune.task", "causal");
        o.put("kiln.finetune.checkpoint", pretrain.getPath());
        o.put("kiln.finetune.output", work.resolve("causal").toString());
        o.put("kiln.finetune.causal.shards", work.resolve("shards").toString());
        o.put("kiln.finetune.causal.steps", Integer.toString(CAUSAL_STEPS));
        o.put("kiln.finetune.causal.learning-rate", "5e-4");
        o.put("kiln.finetune.causal.validation-every", "100");
        o.put("kiln.finetune.parallel.workers", "2");
        var cc = KilnConfig.load(DEMO_CONF, o);
        CausalFinetuning.run(spark, FinetuneConfig.from(cc), Lineage.of("finetune", cc, FinetuneConfig.SECTION, spark.version()),
                false);
        return work.resolve("causal").toFile();
    }

    static void print(String name, Run r) {
        System.out.printf(Locale.ROOT, "%-46s %9d %8.1f %10.1f %9.4f %9.4f   (%d epochs, best %d)%n", name, r.trained(),
                r.seconds(), r.rowsPerSecond(), r.result().test().accuracy(), r.result().test().macro().f1(),
                r.result().epochsRun(), r.result().bestEpoch() + 1);
    }
}
