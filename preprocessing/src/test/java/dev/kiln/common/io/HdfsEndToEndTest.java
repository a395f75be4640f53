package dev.kiln.common.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import dev.kiln.tokenize.Tokenize;
import dev.kiln.tokenize.TokenizeConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every stage's I/O on a real Hadoop file system: an in-process HDFS (MiniDFSCluster, one datanode) serves the
 * input, the preprocess output and the tokenize output. Two incremental preprocess runs and a tokenize after each,
 * the way the CLI runs them (output lock held, status.json written), must leave no staging folders or lock files,
 * and give the same documents, tokenizer and token counts as the same runs on the local file system, whose
 * outputs must carry no {@code .crc} side files.
 */
class HdfsEndToEndTest {
    private static MiniDFSCluster cluster;

    @TempDir
    static java.nio.file.Path tmp;

    @BeforeAll
    static void startHdfs() throws IOException {
        Configuration conf = new Configuration();
        cluster = new MiniDFSCluster.Builder(conf, tmp.resolve("hdfs").toFile()).numDataNodes(1).build();
        cluster.waitActive();
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    /** What a pipeline produced, to compare an HDFS run with a local one. */
    record Result(List<String> texts, long trainTokens, long validationTokens, String tokenizer, List<Integer> tokenizedRuns) {
    }

    @Test
    void preprocessAndTokenizeOnHdfsMatchTheLocalFileSystem() throws Exception {
        SparkSession spark = LocalSpark.get();
        List<java.nio.file.Path> speeches;
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.sotu())) {
            speeches = s.filter(p -> p.toString().endsWith(".json")).sorted().limit(12).toList();
        }
        List<java.nio.file.Path> mail;
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.spamAssassin().resolve("easy-ham-1"))) {
            mail = s.filter(p -> p.toString().endsWith(".txt")).sorted().limit(10).toList();
        }
        List<java.nio.file.Path> batch1 = new ArrayList<>(speeches.subList(0, 8));
        batch1.addAll(mail.subList(0, 6));
        List<java.nio.file.Path> batch2 = new ArrayList<>(speeches.subList(8, 12));
        batch2.addAll(mail.subList(6, 10));

        FileSystem hdfs = cluster.getFileSystem();
        Path hdfsBase = hdfs.makeQualified(new Path("/kiln"));
        assertEquals("hdfs", hdfsBase.toUri().getScheme());
        Result onHdfs = pipeline(spark, hdfs, hdfsBase, batch1, batch2);

        FileSystem local = FileSystem.getLocal(spark.sparkContext().hadoopConfiguration());
        java.nio.file.Path localBase = Files.createDirectories(tmp.resolve("local"));
        Result onLocal = pipeline(spark, local, new Path(localBase.toUri()), batch1, batch2);

        assertEquals(onLocal.texts().size(), onHdfs.texts().size());
        assertEquals(onLocal.texts(), onHdfs.texts(), "the same documents");
        assertEquals(onLocal.tokenizer(), onHdfs.tokenizer(), "the same trained tokenizer");
        assertEquals(onLocal.trainTokens(), onHdfs.trainTokens());
        assertEquals(onLocal.validationTokens(), onHdfs.validationTokens());
        assertEquals(List.of(1, 2), onHdfs.tokenizedRuns());
        System.out.println("hdfs and local: " + onHdfs.texts().size() + " documents, " + onHdfs.trainTokens() + " train + "
                + onHdfs.validationTokens() + " validation tokens");

        // A user reads the local outputs with other tools: no Hadoop checksum side files in them.
        for (String out : List.of("preprocessed", "tokenized")) {
            try (Stream<java.nio.file.Path> s = Files.walk(localBase.resolve(out))) {
                List<java.nio.file.Path> crc = s.filter(p -> p.getFileName().toString().endsWith(".crc")).toList();
                assertEquals(List.of(), crc, out + " has no .crc files");
            }
        }
    }

    /** Two incremental preprocess runs, each followed by tokenize, under {@code base} on {@code fs}. */
    private static Result pipeline(SparkSession spark, FileSystem fs, Path base, List<java.nio.file.Path> batch1,
                                   List<java.nio.file.Path> batch2) throws Exception {
        Path raw = new Path(base, "raw");
        Path pre = new Path(base, "preprocessed");
        Path tok = new Path(base, "tokenized");
        PreprocessConfig pcfg = PreprocessRuns.config("input.paths", raw.toString(), "output.path", pre.toString());
        TokenizeConfig tcfg = tokenizeConfig(pre, tok);
        Lineage json = Lineage.of("tokenize", "kiln.tokenize", new ObjectMapper().readTree("{}"), spark.version());

        copy(fs, batch1, raw);
        assertEquals(1, locked(fs, pre, "preprocess", () -> (Integer) PreprocessPipeline.run(spark, pcfg, TestLineage.preprocess(spark)).get("run")));
        assertEquals(1, locked(fs, tok, "tokenize", () -> Tokenize.run(spark, tcfg, json).run()));
        copy(fs, batch2, raw);
        assertEquals(2, locked(fs, pre, "preprocess", () -> (Integer) PreprocessPipeline.run(spark, pcfg, TestLineage.preprocess(spark)).get("run")));
        assertEquals(2, locked(fs, tok, "tokenize", () -> Tokenize.run(spark, tcfg, json).run()));

        assertTrue(fs.isDirectory(new Path(pre, "documents/run=0002")));
        for (Path out : List.of(pre, tok)) {
            assertTrue(fs.isFile(new Path(out, "_SUCCESS")), out + "/_SUCCESS");
            assertTrue(fs.isFile(new Path(out, RunStatus.FILE_NAME)), out + "/status.json");
            assertFalse(fs.exists(OutputLock.fileFor(out)), "lock of " + out + " released");
        }
        List<Path> leftovers = new ArrayList<>();
        walk(fs, base, p -> {
            String n = p.getName();
            if ((n.startsWith("_") && !n.equals("_SUCCESS")) || n.endsWith(".tmp") || n.endsWith(OutputLock.SUFFIX)) {
                leftovers.add(p);
            }
        });
        assertEquals(List.of(), leftovers, "no staging folders, temporary files or locks under " + base);

        List<String> texts = new ArrayList<>(spark.read().parquet(new Path(pre, "documents").toString())
                .select("text").as(Encoders.STRING()).collectAsList());
        texts.sort(null);
        Manifest m = Manifest.read(fs, tok);
        String tokenizer;
        try (FSDataInputStream in = fs.open(new Path(tok, m.tokenizer()))) {
            tokenizer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return new Result(texts, m.tokens(ShardSchema.TRAIN), m.tokens(ShardSchema.VALIDATION), tokenizer,
                m.preprocessRuns().stream().map(Manifest.PreprocessRun::run).toList());
    }

    /** What the CLI does around a stage: hold the output's lock, run, write status.json, release the lock. */
    private static int locked(FileSystem fs, Path output, String job, Callable<Integer> body) throws Exception {
        String started = Instant.now().toString();
        int run;
        try (OutputLock lock = OutputLock.acquire(fs, output, job, false)) {
            assertTrue(fs.isFile(lock.file()), "lock held at " + lock.file());
            run = body.call();
            new RunStatus(job, run, RunStatus.SUCCEEDED, started, Instant.now().toString(), Map.of(), 0, null).write(fs, output);
        }
        assertEquals(RunStatus.SUCCEEDED, RunStatus.read(fs, output).state());
        return run;
    }

    private static TokenizeConfig tokenizeConfig(Path input, Path output) {
        Map<String, String> o = new HashMap<>();
        o.put("kiln.tokenize.input", input.toString());
        o.put("kiln.tokenize.output", output.toString());
        o.put("kiln.tokenize.context-length", "64");
        o.put("kiln.tokenize.validation-fraction", "0.3");
        o.put("kiln.tokenize.shards", "2");
        o.put("kiln.tokenize.tokenizer.vocab-size", "1024");
        return TokenizeConfig.from(KilnConfig.load(null, o));
    }

    /** Copies local files into {@code dir} through the FileSystem API; mail gets .eml so format = auto reads it as mail. */
    private static void copy(FileSystem fs, List<java.nio.file.Path> files, Path dir) throws IOException {
        for (java.nio.file.Path f : files) {
            String name = f.getFileName().toString();
            String target = name.endsWith(".txt") ? name.substring(0, name.length() - 4) + ".eml" : name;
            fs.copyFromLocalFile(false, true, new Path(f.toUri()), new Path(dir, target));
        }
    }

    private static void walk(FileSystem fs, Path dir, Consumer<Path> visit) throws IOException {
        for (FileStatus st : fs.listStatus(dir)) {
            visit.accept(st.getPath());
            if (st.isDirectory()) {
                walk(fs, st.getPath(), visit);
            }
        }
    }

    /** Two contenders with their own HDFS clients race for one output's lock: exactly one wins, the other is told who. */
    @Test
    void outputLockCreateIsAtomicOnHdfs() throws Exception {
        Path output = cluster.getFileSystem().makeQualified(new Path("/locks/out"));
        Configuration conf = cluster.getConfiguration(0);
        List<FileSystem> clients = List.of(FileSystem.newInstance(output.toUri(), conf), FileSystem.newInstance(output.toUri(), conf));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 5; round++) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Object>> tries = new ArrayList<>();
                for (FileSystem c : clients) {
                    tries.add(pool.submit(() -> {
                        go.await();
                        try {
                            return OutputLock.acquire(c, output, "preprocess", false);
                        } catch (OutputLock.HeldException e) {
                            return e;
                        }
                    }));
                }
                go.countDown();
                List<OutputLock> won = new ArrayList<>();
                List<OutputLock.HeldException> lost = new ArrayList<>();
                for (Future<Object> t : tries) {
                    Object r = t.get();
                    if (r instanceof OutputLock l) {
                        won.add(l);
                    } else {
                        lost.add((OutputLock.HeldException) r);
                    }
                }
                assertEquals(1, won.size(), "round " + round + ": exactly one contender takes the lock");
                assertEquals(1, lost.size());
                assertTrue(lost.get(0).holder() != null, "the loser names the winner: " + lost.get(0).getMessage());
                assertEquals(won.get(0).holder().token(), lost.get(0).holder().token(), "the loser names the winner");
                won.get(0).close();
                assertFalse(cluster.getFileSystem().exists(OutputLock.fileFor(output)), "released");
            }
        } finally {
            pool.shutdownNow();
            for (FileSystem c : clients) {
                c.close();
            }
        }
    }
}
