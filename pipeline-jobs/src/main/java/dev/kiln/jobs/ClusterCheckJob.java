package dev.kiln.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.config.Settings;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.spark.SparkStages;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * {@code kiln cluster check}: a small real job that proves a cluster can run Kiln. Its tasks report which executor
 * JVM ran them (executor id, pid, host, cores) and, optionally, load ND4J and multiply two matrices there, so a
 * missing native library or a wrong backend shows up before a long training run does.
 */
public final class ClusterCheckJob {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterCheckJob.class);

    /** Typed settings of {@code kiln.check}. */
    public record CheckConfig(String output, int tasks, int minExecutors, int waitSeconds, boolean nd4j) {
        static CheckConfig from(Config c) {
            Settings s = new Settings(c, "kiln.check");
            return new CheckConfig(s.optionalString("output"), s.positiveInt("tasks"), s.nonNegativeInt("min-executors"),
                    s.positiveInt("wait-seconds"), s.bool("nd4j"));
        }
    }

    /** What one task saw. */
    public record TaskReport(int partition, String executorId, long pid, String host, int cores, String nd4jBackend, double matmulCheck)
            implements Serializable {
    }

    public static void main(String[] args) {
        JobRunner.main("cluster-check", "kiln.check",
                "kiln cluster check [--master URL] [-Dkiln.check.min-executors=N] [-Dkiln.check.output=PATH] [-Dkiln.check.nd4j=false]",
                args, CheckConfig::from, (spark, cfg, lineage, cl) -> run(spark, cfg, lineage));
    }

    static void run(SparkSession spark, CheckConfig cfg, Lineage lineage) throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        waitForExecutors(jsc, cfg.minExecutors(), cfg.waitSeconds());
        SparkStages.stage(spark, "cluster-check", "report executors");
        boolean nd4j = cfg.nd4j();
        List<Integer> seeds = IntStream.range(0, cfg.tasks()).boxed().toList();
        List<TaskReport> reports = jsc.parallelize(seeds, cfg.tasks()).map(p -> probe(p, nd4j)).collect();

        long driverPid = ProcessHandle.current().pid();
        Map<String, List<Integer>> byExecutor = new TreeMap<>();
        for (TaskReport r : reports) {
            byExecutor.computeIfAbsent(r.executorId() + " (pid " + r.pid() + ", " + r.nd4jBackend() + ")", k -> new ArrayList<>()).add(r.partition());
        }
        LOG.info("cluster check: master {}, driver pid {}, {} tasks ran in {} executor JVM(s):", spark.sparkContext().master(),
                driverPid, reports.size(), byExecutor.size());
        byExecutor.forEach((k, v) -> LOG.info("  executor {} ran partitions {}", k, v));

        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("master", spark.sparkContext().master());
        root.put("sparkVersion", spark.version());
        root.set("lineage", lineage.toJson());
        root.put("driverPid", driverPid);
        root.put("driverHost", ManagementFactory.getRuntimeMXBean().getName());
        ArrayNode tasks = root.putArray("tasks");
        for (TaskReport r : reports) {
            tasks.addPOJO(r);
        }
        String text = json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        if (cfg.output() != null) {
            Path out = new Path(cfg.output());
            FileSystem fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
            AtomicOutput.writeString(fs, out, text);
            LOG.info("cluster check report written to {}", out);
        } else {
            System.out.println(text);
        }
        for (TaskReport r : reports) {
            if (nd4j && Math.abs(r.matmulCheck() - 512.0) > 1e-3) {
                throw new IllegalStateException("ND4J on executor " + r.executorId() + " computed a wrong matrix product: " + r.matmulCheck());
            }
        }
    }

    static TaskReport probe(int partition, boolean nd4j) {
        SparkEnv env = SparkEnv.get();
        String backend = "not loaded";
        double check = Double.NaN;
        if (nd4j) {
            // ones(8x8) x ones(8x8): each of the 64 entries is 8, so the sum is 512.
            INDArray a = Nd4j.ones(DataType.FLOAT, 8, 8);
            check = a.mmul(a).sumNumber().doubleValue();
            backend = Nd4j.getBackend().getClass().getSimpleName();
        }
        return new TaskReport(partition, env == null ? "unknown" : env.executorId(), ProcessHandle.current().pid(),
                env == null ? "" : env.blockManager().blockManagerId().host(), Runtime.getRuntime().availableProcessors(), backend, check);
    }

    private static void waitForExecutors(JavaSparkContext jsc, int wanted, int waitSeconds) throws InterruptedException {
        if (wanted <= 0) {
            return;
        }
        long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
        int have = 0;
        while (System.nanoTime() < deadline) {
            // getExecutorInfos() includes the driver.
            have = jsc.sc().statusTracker().getExecutorInfos().length - 1;
            if (have >= wanted) {
                LOG.info("cluster check: {} executors registered", have);
                return;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("only " + have + " of " + wanted + " executors registered within " + waitSeconds + " s");
    }
}
