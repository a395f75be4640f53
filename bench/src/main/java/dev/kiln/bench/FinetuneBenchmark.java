package dev.kiln.bench;

import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.evaluate.classify.BaselineClassifiers;
import dev.kiln.evaluate.classify.ClassifyConfig;
import dev.kiln.finetune.FinetuneConfig;
import dev.kiln.finetune.Finetuning;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Classification fine-tune throughput and quality, all in one sitting on the demo's outputs:
 * <ol>
 *   <li>{@code kiln finetune} with one worker (the engine's in-process rounds, this JVM, one ND4J thread);</li>
 *   <li>the same with two workers over two Spark tasks on {@code local[2]} (parameter averaging);</li>
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
            System.out.printf(Locale.ROOT, "%-46s %9d %8.1f %10s %9.4f %9.4f   (regParam %s, fit on the train split)%n",
                    "(3) MLlib TF-IDF + LogisticRegression", mllib.documents().get("train"), mllibSeconds, "-",
                    mllib.tfidf().accuracy(), mllib.tfidf().macro().f1(), mllib.selectedRegParam());
            System.out.printf(Locale.ROOT, "%-46s %9s %8s %10s %9.4f %9.4f%n", "    majority class", "", "", "",
                    mllib.majority().accuracy(), mllib.majority().macro().f1());
            System.out.printf(Locale.ROOT, "%nscaling (2)/(1) = %.2fx (aim: near 2 on 2 cores); test documents: Kiln %d, "
                            + "MLlib %d (same cluster split)%n", two.rowsPerSecond() / one.rowsPerSecond(),
                    two.result().test().examples(), mllib.documents().get("test"));
            System.out.printf(Locale.ROOT, "macro-F1 Kiln (2 workers) - MLlib = %+.4f (aim: >= 0)%n",
                    two.result().test().macroF1() - mllib.tfidf().macro().f1());
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
        java.nio.file.Path out = Files.createTempDirectory("kiln-finetune-bench-" + workers + "w");
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

    static void print(String name, Run r) {
        System.out.printf(Locale.ROOT, "%-46s %9d %8.1f %10.1f %9.4f %9.4f   (%d epochs, best %d)%n", name, r.trained(),
                r.seconds(), r.rowsPerSecond(), r.result().test().accuracy(), r.result().test().macroF1(),
                r.result().epochsRun(), r.result().bestEpoch() + 1);
    }
}
