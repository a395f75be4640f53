package dev.kiln.jobs;

import com.typesafe.config.Config;
import dev.kiln.config.CommandLine;
import dev.kiln.config.InvalidConfigException;
import dev.kiln.config.KilnConfig;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.function.Function;

/**
 * The shape every Kiln job's {@code main} shares: parse the job's arguments, load and validate the typed config
 * record (before Spark starts, so a bad key costs milliseconds), start the SparkSession that spark-submit set up,
 * run the job body, and exit with a status a scheduler can trust (0 ok, 1 failed, 2 bad arguments/config).
 */
public final class JobRunner {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

    private JobRunner() {
    }

    /** The body of a job: the Spark session and the typed config; returns nothing, throws on failure. */
    @FunctionalInterface
    public interface Body<C> {
        void run(SparkSession spark, C config, CommandLine commandLine) throws Exception;
    }

    /**
     * Runs a job and exits the JVM with its status. {@code section} is the config section the job reads
     * (its keys are logged); {@code usage} is what {@code --help} prints.
     */
    public static <C> void main(String jobName, String section, String usage, String[] args,
                                Function<Config, C> configFactory, Body<C> body) {
        int status = run(jobName, section, usage, args, configFactory, body);
        // spark-submit (client mode) returns this status to the scheduler.
        System.exit(status);
    }

    public static <C> int run(String jobName, String section, String usage, String[] args,
                              Function<Config, C> configFactory, Body<C> body) {
        CommandLine cl;
        C typed;
        Config config;
        try {
            cl = CommandLine.parse(args);
            if (cl.has("help")) {
                System.out.println(usage);
                return 0;
            }
            config = KilnConfig.load(cl);
            typed = configFactory.apply(config);
        } catch (InvalidConfigException | IllegalArgumentException e) {
            System.err.println("kiln " + jobName + ": " + e.getMessage());
            return 2;
        }
        LOG.info("kiln {}: configuration {}", jobName, typed);
        SparkSession spark = session(jobName, config);
        long start = System.nanoTime();
        try {
            body.run(spark, typed, cl);
            LOG.info("kiln {}: finished in {}", jobName, dev.kiln.progress.Progress.duration((System.nanoTime() - start) / 1e9));
            return 0;
        } catch (InvalidConfigException e) {
            System.err.println("kiln " + jobName + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            LOG.error("kiln {} failed: {}", jobName, e.toString(), e);
            System.err.println("kiln " + jobName + " failed: " + e);
            return 1;
        } finally {
            spark.stop();
        }
    }

    /** The session spark-submit configured (master, resources), plus the keys under kiln.spark.conf. */
    static SparkSession session(String jobName, Config config) {
        SparkConf conf = new SparkConf();
        if (!conf.contains("spark.app.name")) {
            conf.setAppName("kiln " + jobName);
        }
        sparkProperties(config).forEach(conf::set);
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /** {@code kiln.spark.conf { "spark.x.y" = v }} as Spark property names and string values. */
    static Map<String, String> sparkProperties(Config config) {
        Map<String, String> out = new java.util.TreeMap<>();
        if (!config.hasPath("kiln.spark.conf")) {
            return out;
        }
        for (Map.Entry<String, com.typesafe.config.ConfigValue> e : config.getConfig("kiln.spark.conf").entrySet()) {
            // Spark property names contain dots: quoted in HOCON, so join the path elements back with dots.
            String name = String.join(".", com.typesafe.config.ConfigUtil.splitPath(e.getKey()));
            out.put(name, String.valueOf(e.getValue().unwrapped()));
        }
        return out;
    }
}
