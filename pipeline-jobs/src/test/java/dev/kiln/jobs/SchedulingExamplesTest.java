package dev.kiln.jobs;

import com.typesafe.config.Config;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduling examples under conf/scheduling/ run commands that work: every {@code $KILN <stage> ...} of the cron
 * file and every SparkSubmitOperator of the Airflow DAG names a stage of bin/kiln's job table, uses only flags that
 * stage accepts, and its config loads and builds the stage's typed record. bin/kiln --help lists {@link ExitCode}.
 */
class SchedulingExamplesTest {
    private static final Path ROOT = KilnCliAccess.repoRoot();
    private static final Map<String, JobRunner.Stage<?>> STAGES = Map.of(
            "preprocess", PreprocessJob.stage(), "tokenize", TokenizeJob.stage(), "pretrain", PretrainJob.stage());

    /** The stage -> job class table bin/kiln and kiln.jar share (conf/stages). */
    private static Map<String, String> jobTable() {
        return KilnMain.JOBS;
    }

    /** Parses a job's arguments as the job would and builds its typed config (the example's /opt/kiln is this checkout). */
    private static void checkParses(String stage, List<String> args) {
        JobRunner.Stage<?> s = STAGES.get(stage);
        assertTrue(s != null, "no scheduling stage " + stage);
        String[] a = args.stream().map(x -> x.replace("/opt/kiln/", ROOT + "/")).toArray(String[]::new);
        if (stage.equals("preprocess")) {
            a = PreprocessJob.withFlags(a);
        }
        CommandLine cl = CommandLine.parse(a);
        JobRunner.checkFlags(s, cl);
        assertTrue(cl.positional().isEmpty(), "stray arguments " + cl.positional() + " in " + args);
        Config config = cl.config();
        s.config().apply(config);
    }

    @Test
    void everyCronCommandIsABinKilnStageCommandThatParses() throws IOException {
        String cron = Files.readString(ROOT.resolve("conf/scheduling/kiln.cron"));
        Map<String, String> table = jobTable();
        Matcher m = Pattern.compile("\\$KILN ([a-z]+)((?: [^ '&>]+)*)").matcher(cron);
        List<String> seen = new ArrayList<>();
        while (m.find()) {
            String stage = m.group(1);
            assertTrue(table.containsKey(stage), "bin/kiln has no stage " + stage);
            List<String> args = Arrays.stream(m.group(2).trim().split(" +")).toList();
            checkParses(stage, args);
            seen.add(stage + (args.contains("--dry-run") ? " --dry-run" : ""));
        }
        assertEquals(List.of("preprocess", "tokenize", "pretrain", "preprocess --dry-run"), seen);
        assertTrue(cron.contains("flock -n "), "cron slots must not stack up");
    }

    @Test
    void everyAirflowTaskRunsAJobClassOfBinKilnWithArgumentsThatParse() throws IOException {
        String dag = Files.readString(ROOT.resolve("conf/scheduling/kiln_dag.py"));
        Map<String, String> byClass = new LinkedHashMap<>();
        jobTable().forEach((stage, cls) -> byClass.put(cls, stage));
        Matcher m = Pattern.compile("java_class=\"([\\w.]+)\".*?application_args=\\[(.*?)\\]", Pattern.DOTALL).matcher(dag);
        List<String> seen = new ArrayList<>();
        while (m.find()) {
            String stage = byClass.get(m.group(1));
            assertTrue(stage != null, m.group(1) + " is not in bin/kiln's job table");
            List<String> args = new ArrayList<>();
            Matcher q = Pattern.compile("\"([^\"]*)\"").matcher(m.group(2));
            while (q.find()) {
                args.add(q.group(1));
            }
            checkParses(stage, args);
            seen.add(stage);
        }
        assertEquals(List.of("preprocess", "tokenize", "pretrain"), seen);
        assertTrue(dag.contains("preprocess >> tokenize >> pretrain"));
    }

    @Test
    void binKilnHelpListsEveryExitCode() throws IOException {
        String kiln = Files.readString(ROOT.resolve("bin/kiln"));
        for (String line : ExitCode.table().split("\\R")) {
            assertTrue(kiln.contains(line + "\n"), "bin/kiln --help must list: " + line);
        }
    }
}
