package dev.kiln.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Spark standalone cluster on one machine: one Master and N Workers, each its own JVM, bound to 127.0.0.1 on free
 * ports, started from a Spark home whose {@code jars/} the Workers also use to launch executor JVMs. Everything it
 * starts is recorded in {@code dir/cluster.json} (pids, ports, logs), so {@code stop} stops exactly those processes,
 * even from another JVM, and never a process that merely reused a pid.
 */
public final class StandaloneCluster {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MARKER = "-Dkiln.cluster.dir=";

    /** What {@code start} launched. */
    public record State(String masterUrl, String masterUi, long masterPid, List<Long> workerPids, List<String> workerUis,
                        String sparkHome, String dir, String startedAt) {
    }

    /** What {@code status} sees now. */
    public record Status(State state, boolean masterAlive, List<Boolean> workersAlive, int aliveWorkersAtMaster,
                         int coresAtMaster, List<String> runningApps) {
        public boolean healthy() {
            return masterAlive && workersAlive.stream().allMatch(b -> b) && aliveWorkersAtMaster == workersAlive.size();
        }
    }

    private StandaloneCluster() {
    }

    public static Path stateFile(Path dir) {
        return dir.resolve("cluster.json");
    }

    /** Starts a Master and {@code workers} Workers and waits until all Workers registered with the Master. */
    public static State start(Path dir, Path sparkHome, int workers, int coresPerWorker, String memoryPerWorker,
                              Duration timeout) throws IOException, InterruptedException {
        if (!Files.isDirectory(sparkHome.resolve("jars"))) {
            throw new IOException("no Spark home at " + sparkHome + " (it needs a jars/ folder; build Kiln with mvn package)");
        }
        Optional<State> existing = read(dir);
        if (existing.isPresent() && status(dir).map(s -> s.masterAlive).orElse(false)) {
            throw new IOException("a cluster started from " + dir + " is still running (master " + existing.get().masterUrl()
                    + "); stop it first with: kiln cluster stop");
        }
        Files.createDirectories(dir.resolve("logs"));
        Path absDir = dir.toAbsolutePath().normalize();
        Path absHome = sparkHome.toAbsolutePath().normalize();
        int masterPort = freePort();
        int masterUiPort = freePort();
        String masterUrl = "spark://127.0.0.1:" + masterPort;
        Process master = launch(absDir, absHome, "master", List.of("org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", String.valueOf(masterPort), "--webui-port", String.valueOf(masterUiPort)));
        List<Long> workerPids = new ArrayList<>();
        List<String> workerUis = new ArrayList<>();
        State state = new State(masterUrl, "http://127.0.0.1:" + masterUiPort, master.pid(), workerPids, workerUis,
                absHome.toString(), absDir.toString(), Instant.now().toString());
        try {
            waitFor(() -> masterJson(state).isPresent(), timeout, "the master to open its web UI", absDir.resolve("logs/master.log"));
            for (int i = 1; i <= workers; i++) {
                int uiPort = freePort();
                Path workDir = absDir.resolve("work/worker-" + i);
                Files.createDirectories(workDir);
                Process w = launch(absDir, absHome, "worker-" + i, List.of("org.apache.spark.deploy.worker.Worker",
                        "--host", "127.0.0.1", "--cores", String.valueOf(coresPerWorker), "--memory", memoryPerWorker,
                        "--work-dir", workDir.toString(), "--webui-port", String.valueOf(uiPort), masterUrl));
                workerPids.add(w.pid());
                workerUis.add("http://127.0.0.1:" + uiPort);
            }
            write(dir, state);
            waitFor(() -> aliveWorkers(state) >= workers, timeout, workers + " workers to register with the master",
                    absDir.resolve("logs/worker-1.log"));
        } catch (IOException | InterruptedException | RuntimeException e) {
            write(dir, state);
            stop(dir, Duration.ofSeconds(10));
            throw e;
        }
        Files.writeString(dir.resolve("master-url"), masterUrl + "\n");
        return state;
    }

    public static Optional<State> read(Path dir) throws IOException {
        Path f = stateFile(dir);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        return Optional.of(JSON.readValue(f.toFile(), State.class));
    }

    public static Optional<Status> status(Path dir) throws IOException {
        Optional<State> maybe = read(dir);
        if (maybe.isEmpty()) {
            return Optional.empty();
        }
        State s = maybe.get();
        boolean masterAlive = ours(s.masterPid(), s.dir()).isPresent();
        List<Boolean> workersAlive = new ArrayList<>();
        for (long pid : s.workerPids()) {
            workersAlive.add(ours(pid, s.dir()).isPresent());
        }
        int alive = 0;
        int cores = 0;
        List<String> apps = new ArrayList<>();
        Optional<JsonNode> json = masterAlive ? masterJson(s) : Optional.empty();
        if (json.isPresent()) {
            for (JsonNode w : json.get().path("workers")) {
                if ("ALIVE".equals(w.path("state").asText())) {
                    alive++;
                    cores += w.path("cores").asInt();
                }
            }
            for (JsonNode a : json.get().path("activeapps")) {
                apps.add(a.path("name").asText() + " (" + a.path("id").asText() + ")");
            }
        }
        return Optional.of(new Status(s, masterAlive, workersAlive, alive, cores, apps));
    }

    /**
     * Stops the processes recorded in {@code dir}: workers first (their executors go with them), then the master.
     * Returns how many processes were stopped.
     */
    public static int stop(Path dir, Duration grace) throws IOException, InterruptedException {
        Optional<State> maybe = read(dir);
        if (maybe.isEmpty()) {
            return 0;
        }
        State s = maybe.get();
        List<Long> order = new ArrayList<>(s.workerPids());
        order.add(s.masterPid());
        int stopped = 0;
        for (long pid : order) {
            Optional<ProcessHandle> h = ours(pid, s.dir());
            if (h.isEmpty()) {
                continue;
            }
            // Executors are children of the worker; remember them in case the worker dies before reaping them.
            List<ProcessHandle> children = h.get().descendants().toList();
            h.get().destroy();
            try {
                h.get().onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                h.get().destroyForcibly();
            }
            for (ProcessHandle c : children) {
                if (c.isAlive()) {
                    c.destroyForcibly();
                }
            }
            stopped++;
        }
        Files.deleteIfExists(dir.resolve("master-url"));
        Files.move(stateFile(dir), dir.resolve("cluster.stopped.json"), StandardCopyOption.REPLACE_EXISTING);
        return stopped;
    }

    /** The process with this pid, if it is still one this cluster started (its command line carries our marker). */
    static Optional<ProcessHandle> ours(long pid, String dir) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> h.info().commandLine()
                .map(cmd -> cmd.contains(MARKER + dir)).orElse(h.info().arguments()
                        .map(args -> String.join(" ", args).contains(MARKER + dir)).orElse(false)));
    }

    private static Process launch(Path dir, Path sparkHome, String name, List<String> mainAndArgs) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", MARKER + dir, "-Dkiln.cluster.role=" + name,
                "-cp", sparkHome.resolve("jars") + "/*"));
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("logs").resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.12");
        // The hostname here may resolve to a non-loopback address; keep every bind on 127.0.0.1.
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
        env.put("SPARK_WORKER_DIR", dir.resolve("work").toString());
        env.put("SPARK_LOCAL_DIRS", dir.resolve("tmp").toString());
        env.put("SPARK_LOG_DIR", dir.resolve("logs").toString());
        env.put("SPARK_PID_DIR", dir.toString());
        env.remove("SPARK_CONF_DIR");
        return pb.start();
    }

    private static int aliveWorkers(State s) {
        return masterJson(s).map(j -> {
            int n = 0;
            for (JsonNode w : j.path("workers")) {
                if ("ALIVE".equals(w.path("state").asText())) {
                    n++;
                }
            }
            return n;
        }).orElse(0);
    }

    /** The master's own JSON view (workers, apps), from its web UI. */
    static Optional<JsonNode> masterJson(State s) {
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(s.masterUi() + "/json/"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static void write(Path dir, State state) throws IOException {
        Path tmp = dir.resolve("_cluster.json.tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
        Files.move(tmp, stateFile(dir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private interface Check {
        boolean ok();
    }

    private static void waitFor(Check check, Duration timeout, String what, Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (check.ok()) {
                return;
            }
            Thread.sleep(250);
        }
        String tail = "";
        if (Files.isRegularFile(log)) {
            List<String> lines = Files.readAllLines(log);
            tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        }
        throw new IOException("timed out after " + timeout.toSeconds() + " s waiting for " + what + "; last lines of " + log + ":\n" + tail);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    /** A short human summary, for {@code kiln cluster status}. */
    public static String describe(Status st) {
        State s = st.state();
        StringBuilder sb = new StringBuilder();
        sb.append("master   ").append(s.masterUrl()).append("  pid ").append(s.masterPid())
                .append(st.masterAlive() ? "  running" : "  NOT RUNNING").append("  ui ").append(s.masterUi()).append('\n');
        for (int i = 0; i < s.workerPids().size(); i++) {
            sb.append("worker-").append(i + 1).append(" pid ").append(s.workerPids().get(i))
                    .append(st.workersAlive().get(i) ? "  running" : "  NOT RUNNING").append("  ui ").append(s.workerUis().get(i)).append('\n');
        }
        sb.append("registered with the master: ").append(st.aliveWorkersAtMaster()).append(" workers, ")
                .append(st.coresAtMaster()).append(" cores; running applications: ")
                .append(st.runningApps().isEmpty() ? "none" : String.join(", ", st.runningApps())).append('\n');
        sb.append("logs     ").append(s.dir()).append("/logs");
        return sb.toString();
    }
}
