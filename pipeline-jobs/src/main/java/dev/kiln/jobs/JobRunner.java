package dev.kiln.jobs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.OutputLock;
import dev.kiln.common.io.RunStatus;
import dev.kiln.common.log.Progress;
import dev.kiln.common.spark.KilnKryoRegistrator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The shape every Kiln job's {@code main} shares: parse the job's arguments, load and validate the typed config
 * record (before Spark starts, so a bad key costs milliseconds), take the output's lock, start the SparkSession that
 * spark-submit set up, run the job body, write {@code status.json}, release the lock, and exit with a status a
 * scheduler can act on ({@link ExitCode}: every failure is mapped to a code here and nowhere else).
 * {@code --dry-run} validates and prints the plan without starting Spark or writing anything.
 * <p>
 * Once the session is up it builds the run's {@link Lineage} (the stage, Kiln's and the libraries' versions, the
 * session's Spark version and the effective config section) and hands that one value to the body, which records it
 * in every output it writes.
 */
public final class JobRunner {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);
    /** Flags every stage accepts; a stage adds its own in {@link Stage#flags()}. */
    static final Set<String> COMMON_FLAGS = Set.of("help", "dry-run", "break-lock");

    private JobRunner() {
    }

    /**
     * The body of a job that reports nothing back: the Spark session, the typed config and the run's lineage (the
     * same config rendered, with versions); throws on failure.
     */
    @FunctionalInterface
    public interface Body<C> {
        void run(SparkSession spark, C config, Lineage lineage, CommandLine commandLine) throws Exception;
    }

    /** The body of a stage: returns what status.json records. */
    @FunctionalInterface
    public interface StageBody<C> {
        Outcome run(SparkSession spark, C config, Lineage lineage, CommandLine commandLine) throws Exception;
    }

    /** {@code --dry-run}: validate the inputs and return what a run would do; must write nothing. */
    @FunctionalInterface
    public interface DryRun<C> {
        String plan(C config, Configuration hadoop, CommandLine commandLine) throws Exception;
    }

    /**
     * A stage as JobRunner runs it. {@code section}: the config section the typed record is read from (the lineage
     * records it rendered); {@code output}: the folder the stage writes, locked for the run (null: no lock);
     * {@code writesStatus}: write {@code <output>/status.json} at the end; {@code dryRun}: null when the stage has none;
     * {@code flags}: the stage's own {@code --flags} besides help, dry-run and break-lock; {@code spark}: whether the
     * body needs a SparkSession (without: it gets null, and the lineage records no Spark version).
     */
    public record Stage<C>(String name, String section, String usage, Function<Config, C> config, Set<String> flags,
                           Function<C, String> output, boolean writesStatus, DryRun<C> dryRun, StageBody<C> body,
                           boolean spark) {
        public static <C> Stage<C> of(String name, String section, String usage, Function<Config, C> config, StageBody<C> body) {
            return new Stage<>(name, section, usage, config, Set.of(), null, false, null, body, true);
        }

        public Stage<C> withFlags(String... more) {
            return new Stage<>(name, section, usage, config, Set.of(more), output, writesStatus, dryRun, body, spark);
        }

        public Stage<C> lockedOutput(Function<C, String> out, boolean status) {
            return new Stage<>(name, section, usage, config, flags, out, status, dryRun, body, spark);
        }

        public Stage<C> withDryRun(DryRun<C> d) {
            return new Stage<>(name, section, usage, config, flags, output, writesStatus, d, body, spark);
        }

        /** A stage whose body runs in the driver alone: no SparkSession is started. */
        public Stage<C> withoutSpark() {
            return new Stage<>(name, section, usage, config, flags, output, writesStatus, dryRun, body, false);
        }
    }

    /** Runs a job and exits the JVM with its status. */
    public static <C> void main(String jobName, String section, String usage, String[] args,
                                Function<Config, C> configFactory, Body<C> body) {
        System.exit(run(jobName, section, usage, args, configFactory, body));
    }

    public static <C> void main(Stage<C> stage, String[] args) {
        // spark-submit (client mode) returns this status to the scheduler; in cluster mode bin/kiln reads the
        // driver's state, and status.json keeps the exact code.
        System.exit(run(stage, args));
    }

    public static <C> int run(String jobName, String section, String usage, String[] args,
                              Function<Config, C> configFactory, Body<C> body) {
        return run(Stage.of(jobName, section, usage, configFactory, (spark, c, lineage, cl) -> {
            body.run(spark, c, lineage, cl);
            return Outcome.none();
        }), args);
    }

    public static <C> int run(Stage<C> stage, String[] args) {
        String job = stage.name();
        CommandLine cl;
        C typed;
        Config config;
        try {
            cl = CommandLine.parse(args);
            if (cl.has("help")) {
                System.out.println(stage.usage());
                return ExitCode.OK.code();
            }
            checkFlags(stage, cl);
            config = cl.config();
            typed = stage.config().apply(config);
        } catch (InvalidConfigException | IllegalArgumentException e) {
            System.err.println("kiln " + job + ": " + e.getMessage());
            return ExitCode.BAD_CONFIG.code();
        }
        LOG.info("kiln {}: configuration {}", job, typed);
        SparkConf sparkConf = sparkConf(job, config);
        if (cl.has("dry-run")) {
            return dryRun(stage, typed, cl, sparkConf);
        }
        String started = Instant.now().toString();
        OutputLock lock = null;
        FileSystem fs = null;
        Path output = null;
        try {
            if (stage.output() != null) {
                output = new Path(stage.output().apply(typed));
                fs = output.getFileSystem(hadoop(sparkConf));
                output = fs.makeQualified(output);
                lock = OutputLock.acquire(fs, output, job, cl.has("break-lock"));
            }
        } catch (Exception e) {
            return report(job, e);
        }
        long start = System.nanoTime();
        try {
            Outcome outcome;
            SparkSession spark = null;
            try {
                if (stage.spark()) {
                    spark = SparkSession.builder().config(sparkConf).getOrCreate();
                }
                Lineage lineage = Lineage.of(job, config, stage.section(), spark == null ? null : spark.version());
                outcome = stage.body().run(spark, typed, lineage, cl);
            } catch (Exception e) {
                int code = report(job, e);
                writeStatus(stage, fs, output, new RunStatus(job, 0, RunStatus.FAILED, started, Instant.now().toString(),
                        Map.of(), code, e.toString()));
                return code;
            } finally {
                if (spark != null) {
                    spark.stop();
                }
            }
            LOG.info("kiln {}: finished in {}", job, Progress.duration((System.nanoTime() - start) / 1e9));
            writeStatus(stage, fs, output, new RunStatus(job, outcome.run(), outcome.upToDate() ? RunStatus.UP_TO_DATE
                    : RunStatus.SUCCEEDED, started, Instant.now().toString(), outcome.counts(), ExitCode.OK.code(), null));
            return ExitCode.OK.code();
        } finally {
            release(lock);
        }
    }

    private static <C> int dryRun(Stage<C> stage, C typed, CommandLine cl, SparkConf sparkConf) {
        if (stage.dryRun() == null) {
            System.err.println("kiln " + stage.name() + ": --dry-run is not supported by this stage");
            return ExitCode.BAD_CONFIG.code();
        }
        try {
            System.out.println("kiln " + stage.name() + " --dry-run (nothing is written):");
            System.out.println(stage.dryRun().plan(typed, hadoop(sparkConf), cl));
            return ExitCode.OK.code();
        } catch (Exception e) {
            return report(stage.name(), e);
        }
    }

    /** Prints the failure and returns its code. */
    static int report(String job, Exception e) {
        ExitCode code = ExitCode.of(e);
        if (code == ExitCode.BAD_CONFIG || code == ExitCode.LOCK_HELD || code == ExitCode.MISSING_INPUT
                || code == ExitCode.BAD_INPUT || code == ExitCode.FILTERED_OUT) {
            LOG.error("kiln {}: {}", job, e.getMessage());
            System.err.println("kiln " + job + ": " + e.getMessage() + " (exit " + code.code() + ", " + code.name().toLowerCase() + ")");
        } else {
            LOG.error("kiln {} failed: {}", job, e.toString(), e);
            System.err.println("kiln " + job + " failed: " + e + " (exit " + code.code() + ", " + code.name().toLowerCase() + ")");
        }
        return code.code();
    }

    /** An unknown --flag is an error: a typo such as --dry-rn must not start a real run. */
    static void checkFlags(Stage<?> stage, CommandLine cl) {
        Set<String> known = new TreeSet<>(COMMON_FLAGS);
        known.addAll(stage.flags());
        for (String f : cl.flags()) {
            if (!known.contains(f)) {
                throw new IllegalArgumentException("unknown option --" + f + " (kiln " + stage.name() + " accepts "
                        + known.stream().map(k -> "--" + k).toList() + ")");
            }
        }
    }

    private static <C> void writeStatus(Stage<C> stage, FileSystem fs, Path output, RunStatus status) {
        if (!stage.writesStatus() || fs == null) {
            return;
        }
        try {
            status.write(fs, output);
        } catch (IOException | RuntimeException e) {
            LOG.warn("kiln {}: could not write {}: {}", stage.name(), new Path(output, RunStatus.FILE_NAME), e.toString());
        }
    }

    private static void release(OutputLock lock) {
        if (lock == null) {
            return;
        }
        try {
            lock.close();
        } catch (IOException e) {
            LOG.warn("could not remove the lock {}: {}; delete it by hand", lock.file(), e.toString());
        }
    }

    /** The configuration spark-submit set up (master, resources), plus the keys under kiln.spark.conf. */
    /** The jobs whose Spark rounds move model state ({@code SparkAveraging}). */
    private static final Set<String> MODEL_SHUFFLING_JOBS = Set.of("pretrain", "finetune");

    static SparkConf sparkConf(String jobName, Config config) {
        SparkConf conf = new SparkConf();
        if (!conf.contains("spark.app.name")) {
            conf.setAppName("kiln " + jobName);
        }
        if (MODEL_SHUFFLING_JOBS.contains(jobName)) {
            // Their rounds shuffle the model state in 64 MB chunks, one per reduce partition: Java serialization
            // keeps every object a stream wrote until the stream resets (by default every 100 objects), so a task
            // would hold all its chunks, a whole model state, until it ends (GPT-2 small's executors ran out of heap).
            conf.setIfMissing("spark.serializer.objectStreamReset", "1");
        }
        sparkProperties(config).forEach(conf::set);
        // Kiln's task payloads are Java records, which Spark's Kryo cannot serialise by itself (see the class).
        KilnKryoRegistrator.applyTo(conf);
        return conf;
    }

    /** The Hadoop configuration the session will have (spark.hadoop.* applied), available before Spark starts. */
    static Configuration hadoop(SparkConf conf) {
        return SparkHadoopUtil.get().newConfiguration(conf);
    }

    /** {@code kiln.spark.conf { "spark.x.y" = v }} as Spark property names and string values. */
    static Map<String, String> sparkProperties(Config config) {
        Map<String, String> out = new TreeMap<>();
        if (!config.hasPath("kiln.spark.conf")) {
            return out;
        }
        for (Map.Entry<String, ConfigValue> e : config.getConfig("kiln.spark.conf").entrySet()) {
            // Spark property names contain dots: quoted in HOCON, so join the path elements back with dots.
            String name = String.join(".", ConfigUtil.splitPath(e.getKey()));
            out.put(name, String.valueOf(e.getValue().unwrapped()));
        }
        return out;
    }
}
