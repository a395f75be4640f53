package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Format1Shards;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardReader;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LineageAssertions;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.IntList;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The distributed evaluation on real SOTU shards and a real (tiny) pre-trained checkpoint equals a plain
 * single-JVM loop over the shard rows, and gives the same numbers on local[1] and local[2].
 */
class EvaluationSparkTest {
    @TempDir
    static java.nio.file.Path tmp;
    static Path shards;
    static Path pretrain;
    static final FileSystem FS = localFs();

    static FileSystem localFs() {
        try {
            return FileSystem.getLocal(new Configuration());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void inputs() throws IOException {
        shards = EvalFixtures.shards(tmp.resolve("tokenized"), 20);
        pretrain = EvalFixtures.pretrain(shards, tmp.resolve("pretrain"), 60, 30);
    }

    /** Two checkpoints side by side: step 30 by its folder, step 60 as the pretrain folder's newest. */
    static Map<String, String> overrides(String runName) {
        return Map.of("checkpoints", "[\"" + new Path(pretrain, "checkpoints/" + CheckpointStore.name(30)) + "\", \"" + pretrain + "\"]",
                "shards", "[\"" + shards + "\"]",
                "output", tmp.resolve("reports").toString(), "run-name", runName,
                "per-source.group-by", "file", // one group per document: compared with the plain loop's per-document sums
                "tokens-per-task", "1000"); // 15 rows of 64 tokens: chunks that start and end inside record batches
    }

    static Evaluate.Outcome evaluate(String master, String runName) throws IOException {
        return evaluate(master, runName, overrides(runName), 2);
    }

    static Evaluate.Outcome evaluate(String master, String runName, Map<String, String> overrides, int checkpoints) throws IOException {
        // getOrCreate would hand back a session another test class left running (LocalSpark's local[2]) and ignore
        // the master asked for here: stop it first (LocalSpark starts a new one when it is next needed).
        scala.Option<SparkSession> running = SparkSession.getDefaultSession();
        if (running.isDefined()) {
            running.get().stop();
        }
        SparkSession.clearDefaultSession();
        SparkSession.clearActiveSession();
        SparkSession spark = SparkSession.builder().master(master).appName("kiln-evaluate-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        try {
            Evaluate.Outcome o = Evaluate.run(spark, EvalFixtures.config(overrides), EvalFixtures.lineage(overrides));
            int cores = Integer.parseInt(master.replaceAll("\\D", ""));
            for (String checkpoint : List.of("0", "1").subList(0, checkpoints)) {
                int built = ModelCache.built(o.result().runId(), checkpoint);
                assertTrue(built >= 1 && built <= cores, master + ": " + built + " model instances built for "
                        + o.result().tasks() + " tasks; expected at most one per core");
            }
            return o;
        } finally {
            spark.stop();
        }
    }

    @Test
    void distributedMetricsEqualAPlainLoopAndDoNotDependOnPartitioning() throws IOException {
        Evaluate.Outcome one = evaluate("local[1]", "one");
        Evaluate.Outcome two = evaluate("local[2]", "two");
        assertTrue(one.result().tasks() >= 4, "the validation shard is scored in several chunks, got " + one.result().tasks());

        Reference ref = reference();
        List<String> names = one.result().scorers();
        assertEquals(List.of("pretrain/" + CheckpointStore.name(30), "pretrain/" + CheckpointStore.name(60), "uniform",
                "unigram-add-one", "bigram-kneser-ney"), names);
        List<LmStats> a = one.result().perShardSet().get(0);
        List<LmStats> b = two.result().perShardSet().get(0);
        for (int i = 0; i < names.size(); i++) {
            LmStats r = ref.stats.get(i);
            System.out.printf(Locale.ROOT, "%-26s loss %.5f  token ppl %.3f  word ppl %.3f  byte ppl %.4f  bits/byte %.4f  (%d docs, %d tokens, %d bytes, %d words)%n",
                    names.get(i), a.get(i).loss(), a.get(i).tokenPerplexity(), a.get(i).wordPerplexity(), a.get(i).bytePerplexity(),
                    a.get(i).bitsPerByte(), a.get(i).documents(), a.get(i).tokens(), a.get(i).bytes(), a.get(i).words());
            for (LmStats s : List.of(a.get(i), b.get(i))) {
                assertEquals(r.tokens(), s.tokens(), names.get(i));
                assertEquals(r.bytes(), s.bytes(), names.get(i));
                assertEquals(r.words(), s.words(), names.get(i));
                assertEquals(r.documents(), s.documents(), names.get(i));
                assertEquals(r.nll(), s.nll(), 1e-9 * Math.abs(r.nll()), names.get(i) + " nll");
            }
            // Bit-identical: every batch has the same shape wherever it runs, and the driver adds in key order.
            assertEquals(a.get(i).nll(), b.get(i).nll(), 0.0, names.get(i) + ": local[1] vs local[2]");
            System.out.printf(Locale.ROOT, "%-26s relative nll difference: local[1] vs plain loop %.1e, local[1] vs local[2] %.1e%n", names.get(i),
                    Math.abs(a.get(i).nll() - r.nll()) / r.nll(), Math.abs(a.get(i).nll() - b.get(i).nll()) / r.nll());
        }
        // Per source (one group per document, group-by = file): the same sums as the plain loop's, by document source,
        // and the groups add up to the totals, which do not depend on the grouping.
        for (Evaluate.Outcome o : List.of(one, two)) {
            Map<String, List<LmStats>> groups = o.result().perSource().get(0).groups();
            assertEquals(ref.perSource.keySet(), groups.keySet(), "the groups are the validation documents' sources");
            assertEquals(2, groups.size());
            for (int i = 0; i < names.size(); i++) {
                double nllSum = 0;
                long tokens = 0;
                long bytes = 0;
                long words = 0;
                long documents = 0;
                for (String g : groups.keySet()) {
                    LmStats r = ref.perSource.get(g).get(i);
                    LmStats s = groups.get(g).get(i);
                    assertEquals(r.tokens(), s.tokens(), g);
                    assertEquals(r.bytes(), s.bytes(), g);
                    assertEquals(r.words(), s.words(), g);
                    assertEquals(r.documents(), s.documents(), g);
                    assertEquals(r.nll(), s.nll(), 1e-9 * Math.abs(r.nll()), names.get(i) + " on " + g);
                    nllSum += s.nll();
                    tokens += s.tokens();
                    bytes += s.bytes();
                    words += s.words();
                    documents += s.documents();
                }
                LmStats total = o.result().perShardSet().get(0).get(i);
                assertEquals(new LmStats(total.nll(), total.tokens(), total.bytes(), total.words(), total.documents()),
                        new LmStats(total.nll(), tokens, bytes, words, documents), names.get(i) + ": group counts add up to the totals");
                assertEquals(total.nll(), nllSum, 1e-12 * total.nll(), names.get(i) + ": group NLLs add up to the total");
            }
        }
        for (String g : ref.perSource.keySet()) {
            System.out.printf(Locale.ROOT, "per source %s: %s bits/byte%n", g, ref.perSource.get(g).stream()
                    .map(st -> String.format(Locale.ROOT, "%.4f", st.bitsPerByte())).toList());
        }
        // Every token of the validation stream but the separators is scored.
        Manifest m = Manifest.read(FS, shards);
        assertEquals(m.tokens(ShardSchema.VALIDATION) - ref.separators, a.get(0).tokens());
        assertEquals(ref.trainCounts.tokens(), one.result().counts().tokens());
        assertTrue(Arrays.equals(ref.trainCounts.bigramKeys(), one.result().counts().bigramKeys())
                && Arrays.equals(ref.trainCounts.bigramCounts(), one.result().counts().bigramCounts())
                && Arrays.equals(ref.trainCounts.unigrams(), one.result().counts().unigrams()), "n-gram counts equal the plain loop's");

        // The report folder: all three files, committed, with the numbers and the flag logic.
        java.nio.file.Path folder = tmp.resolve("reports").resolve("one");
        JsonNode json = new ObjectMapper().readTree(folder.resolve("report.json").toFile());
        assertEquals(Report.SCHEMA_VERSION, json.path("schema_version").asInt());
        LineageAssertions.assertLineage(json.path("lineage"), "evaluate", EvaluateConfig.SECTION);
        assertEquals(json.path("config"), json.path("lineage").path("config"));
        assertEquals(Lineage.KILN_VERSION, json.path("versions").path("kiln").asText());
        int flags = 0;
        for (int i = 0; i < 2; i++) {
            JsonNode model = json.path("results").path(0).path("scorers").path(i);
            assertEquals(a.get(i).bitsPerByte(), model.path("bits_per_byte").asDouble(), 1e-12);
            boolean beats = a.get(i).nll() < a.get(4).nll();
            assertEquals(beats, model.path("beats_bigram").asBoolean());
            flags += beats ? 0 : 1;
        }
        assertEquals(flags, json.path("flags").size());
        JsonNode perSource = json.path("per_source");
        assertEquals("file", perSource.path("group_by").asText());
        JsonNode groupsJson = perSource.path("sets").path(0).path("groups");
        assertEquals(2, groupsJson.size());
        for (JsonNode g : groupsJson) {
            List<LmStats> r = ref.perSource.get(g.path("group").asText());
            assertEquals(r.get(0).documents(), g.path("documents").asLong());
            assertEquals(r.get(0).tokens(), g.path("tokens").asLong());
            assertEquals(r.get(0).bytes(), g.path("bytes").asLong());
            for (int i = 0; i < names.size(); i++) {
                assertEquals(names.get(i), g.path("scorers").path(i).path("name").asText());
                assertEquals(r.get(i).bitsPerByte(), g.path("scorers").path(i).path("bits_per_byte").asDouble(), 1e-9 * r.get(i).bitsPerByte());
            }
        }
        assertTrue(json.path("results").path(0).path("per_source").asBoolean());
        assertTrue(a.get(1).nll() < a.get(0).nll(), "60 steps of training score better than 30");
        assertEquals(FileHashes.sha256(FS, new Path(shards, Manifest.FILE_NAME)), json.path("inputs").path("shards").path(0).path("manifest_sha256").asText());
        String md = Files.readString(folder.resolve("report.md"));
        assertTrue(md.contains("| bits per byte |"), md);
        assertTrue(md.contains("bigram-kneser-ney (baseline)"), md);
        assertTrue(md.contains("## Per source: " + shards), md);
        assertEquals(flags == 0, !md.contains("**FLAG:**"), md);
        // Training curves of the one run both checkpoints come from, and the HTML page in the same folder.
        JsonNode runs = json.path("training").path("runs");
        assertEquals(1, runs.size(), runs.toString());
        assertEquals("[30,60]", runs.get(0).path("evaluated_steps").toString());
        assertEquals(3, runs.get(0).path("train").path("step").size(), "a train record every 20 of 60 steps");
        assertEquals("local[1]", json.path("spark").path("master").asText());
        String html = Files.readString(folder.resolve(HtmlReport.FILE));
        assertTrue(html.contains("<section id=\"training\">") && html.contains("<section id=\"lineage\">"));
        assertTrue(html.contains("<section id=\"per-source\">"));
        try (Stream<java.nio.file.Path> files = Files.list(folder)) {
            assertEquals(Set.of("report.json", "report.md", HtmlReport.FILE),
                    files.map(f -> f.getFileName().toString()).collect(Collectors.toSet()),
                    "the report folder holds the three reports and nothing else (no .crc side files)");
        }
        Files.createDirectories(java.nio.file.Path.of("target", "report-browser"));
        Files.copy(folder.resolve(HtmlReport.FILE), java.nio.file.Path.of("target", "report-browser", "spark-report.html"),
                StandardCopyOption.REPLACE_EXISTING);
        try (var s = Files.list(tmp.resolve("reports"))) {
            assertEquals(List.of("one", "two"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no staging folders left");
        }
        System.out.println(md);
    }

    /** What the plain loop computes. */
    record Reference(List<LmStats> stats, NgramCounts trainCounts, long separators, Map<String, List<LmStats>> perSource) {
    }

    /** A document and the source its shard lists for it. */
    record SourcedDocument(String source, int[] ids) {
    }

    /**
     * A different code path: whole shards read row by row into one token stream, split at end-of-text, windows
     * built as lm-eval's get_rolling_token_windows does, scored through GptModel.probabilities.
     */
    static Reference reference() throws IOException {
        return reference(shards, 16);
    }

    /** {@link #reference()} of another shard folder (with the fixture's tokenizer), in model batches of {@code batch}. */
    static Reference reference(Path shards, int batch) throws IOException {
        Manifest m = Manifest.read(FS, shards);
        int t = m.contextLength();
        int eot = m.specialTokens().get(EvalFixtures.EOT);
        BpeTokenizer tok = TokenizerJson.read(Files.readString(tmp.resolve("tokenized").resolve("tokenizer.json")), "test");
        long[] separators = {0};
        List<int[]> validation = documents(m.shardPaths(shards, ShardSchema.VALIDATION), eot, separators);
        List<SourcedDocument> sourced = sourcedDocuments(m.shardPaths(shards, ShardSchema.VALIDATION), eot);
        assertEquals(validation.size(), sourced.size());
        Map<String, double[]> groupNll = new TreeMap<>();
        Map<String, long[]> groupCounts = new TreeMap<>(); // tokens, bytes, words, documents
        NgramCounts.Counter counter = new NgramCounts.Counter(m.vocabSize(), eot);
        documents(m.shardPaths(shards, ShardSchema.TRAIN), eot, new long[1]).forEach(counter::addDocument);
        NgramCounts counts = counter.counts();
        List<NgramScorer> baselines = List.of(new NgramScorer.Uniform(m.vocabSize()), new NgramScorer.UnigramAddOne(counts),
                new KneserNeyBigram(counts, Double.NaN));

        CheckpointStore store = new CheckpointStore(FS, new Path(pretrain, "checkpoints"), 10);
        List<ComputationGraph> models = List.of(store.load(new Path(store.dir(), CheckpointStore.name(30))).model(),
                store.load(store.latest().orElseThrow()).model());
        Pattern ws = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
        double[] nll = new double[models.size() + baselines.size()];
        long tokens = 0;
        long bytes = 0;
        long words = 0;
        for (int v = 0; v < validation.size(); v++) {
            int[] doc = validation.get(v);
            assertArrayEquals(doc, sourced.get(v).ids());
            String group = sourced.get(v).source(); // group-by = file: the source itself
            double[] gn = groupNll.computeIfAbsent(group, k -> new double[nll.length]);
            long[] gc = groupCounts.computeIfAbsent(group, k -> new long[4]);
            byte[] utf8 = tok.decodeBytes(doc);
            long w = ws.split(new String(utf8, StandardCharsets.UTF_8), -1).length;
            bytes += utf8.length;
            words += w;
            tokens += doc.length;
            gc[0] += doc.length;
            gc[1] += utf8.length;
            gc[2] += w;
            gc[3]++;
            for (int k = 0; k < models.size(); k++) {
                double d = modelNll(models.get(k), doc, t, eot, batch);
                nll[k] += d;
                gn[k] += d;
            }
            for (int k = 0; k < baselines.size(); k++) {
                double d = 0;
                for (int i = 0; i < doc.length; i++) {
                    d -= baselines.get(k).logProb(i == 0 ? eot : doc[i - 1], doc[i]);
                }
                nll[models.size() + k] += d;
                gn[models.size() + k] += d;
            }
        }
        List<LmStats> stats = new ArrayList<>();
        for (double n : nll) {
            stats.add(new LmStats(n, tokens, bytes, words, validation.size()));
        }
        Map<String, List<LmStats>> perSource = new TreeMap<>();
        groupNll.forEach((g, gn) -> {
            long[] gc = groupCounts.get(g);
            List<LmStats> l = new ArrayList<>();
            for (double n : gn) {
                l.add(new LmStats(n, gc[0], gc[1], gc[2], gc[3]));
            }
            perSource.put(g, l);
        });
        return new Reference(stats, counts, separators[0], perSource);
    }

    /** Documents of the shards, in order: the rows joined (dropping each row's repeated first id), cut at end-of-text. */
    static List<int[]> documents(List<Path> shardPaths, int eot, long[] separators) throws IOException {
        List<int[]> docs = new ArrayList<>();
        for (Path p : shardPaths) {
            IntList stream = new IntList();
            try (ShardReader r = ShardReader.open(FS, p)) {
                boolean first = true;
                for (int[] row : r) {
                    stream.addAll(row, first ? 0 : 1, row.length);
                    first = false;
                }
            }
            IntList doc = new IntList();
            for (int i = 0; i < stream.size(); i++) {
                if (stream.get(i) == eot) {
                    separators[0]++;
                    if (doc.size() > 0) {
                        docs.add(doc.toArray());
                    }
                    doc.clear();
                } else {
                    doc.add(stream.get(i));
                }
            }
            if (doc.size() > 0) {
                docs.add(doc.toArray());
            }
        }
        return docs;
    }

    /**
     * Documents with their sources, without the ownership rule: every row's sources in row order are the shard's
     * documents in stream order (empty ones included), so the k-th piece of the stream cut at end-of-text has the
     * k-th source; the piece after the last end-of-text has one only if it starts inside the shard's rows.
     */
    static List<SourcedDocument> sourcedDocuments(List<Path> shardPaths, int eot) throws IOException {
        List<SourcedDocument> out = new ArrayList<>();
        for (Path p : shardPaths) {
            IntList stream = new IntList();
            List<String> sources = new ArrayList<>();
            try (ShardReader r = ShardReader.open(FS, p)) {
                assertTrue(r.hasSources(), p + " is a format 2 shard");
                boolean first = true;
                for (int b = 0; b < r.blockCount(); b++) {
                    int[] row = new int[r.rowLength()];
                    for (int i = 0, n = r.loadBlock(b); i < n; i++) {
                        r.copyRow(i, row, 0);
                        stream.addAll(row, first ? 0 : 1, row.length);
                        sources.addAll(r.sources(i));
                        first = false;
                    }
                }
            }
            List<int[]> pieces = new ArrayList<>();
            IntList doc = new IntList();
            for (int i = 0; i < stream.size(); i++) {
                if (stream.get(i) == eot) {
                    pieces.add(doc.toArray());
                    doc.clear();
                } else {
                    doc.add(stream.get(i));
                }
            }
            pieces.add(doc.toArray());
            assertTrue(sources.size() == pieces.size() || sources.size() == pieces.size() - 1,
                    sources.size() + " sources for " + pieces.size() + " pieces of " + p);
            for (int k = 0; k < sources.size(); k++) {
                if (pieces.get(k).length > 0) {
                    out.add(new SourcedDocument(sources.get(k), pieces.get(k)));
                }
            }
            assertTrue(sources.size() == pieces.size() || pieces.get(pieces.size() - 1).length == 0,
                    "a non-empty last piece of " + p + " has a source");
        }
        return out;
    }

    /** lm-eval's rolling loglikelihood of one document, in batches of {@code b} windows of one document. */
    static double modelNll(ComputationGraph model, int[] tokens, int t, int eot, int b) {
        // (input, predicted) pairs exactly as get_rolling_token_windows(tokens, eot, t, context_len=1) yields them.
        List<int[][]> windows = new ArrayList<>();
        int n = tokens.length;
        int first = Math.min(t, n);
        int[] in0 = new int[first];
        in0[0] = eot;
        System.arraycopy(tokens, 0, in0, 1, first - 1);
        windows.add(new int[][]{in0, Arrays.copyOfRange(tokens, 0, first)});
        int predicted = first;
        while (predicted < n) {
            int len = Math.min(n - predicted, t);
            int end = predicted + len;
            windows.add(new int[][]{Arrays.copyOfRange(tokens, end - t - 1, end - 1), Arrays.copyOfRange(tokens, end - len, end)});
            predicted = end;
        }
        double nll = 0;
        for (int s = 0; s < windows.size(); s += b) {
            int[][] rows = new int[b][t + 1];
            for (int[] row : rows) {
                Arrays.fill(row, eot);
            }
            int count = Math.min(b, windows.size() - s);
            for (int i = 0; i < count; i++) {
                int[] input = windows.get(s + i)[0];
                System.arraycopy(input, 0, rows[i], 0, input.length);
            }
            INDArray p = GptModel.probabilities(model, rows);
            for (int i = 0; i < count; i++) {
                int[] input = windows.get(s + i)[0];
                int[] pred = windows.get(s + i)[1];
                for (int k = 0; k < pred.length; k++) {
                    int position = input.length - pred.length + k; // the logits of the last len(pred) input positions
                    nll -= Math.log(Math.max(p.getDouble(i, pred[k], position), Double.MIN_VALUE));
                }
            }
        }
        return nll;
    }

    /**
     * What the fixed batch shape and the padding rest on: the model is causal (padding after the scored positions,
     * whatever its ids, changes nothing) and a window's scores do not depend on its batch beyond float rounding.
     */
    @Test
    void paddingAndBatchingDoNotChangeScoresBeyondFloatRounding() throws IOException {
        CheckpointStore store = new CheckpointStore(FS, new Path(pretrain, "checkpoints"), 10);
        ComputationGraph model = store.load(store.latest().orElseThrow()).model();
        Manifest m = Manifest.read(FS, shards);
        int t = m.contextLength();
        int eot = m.specialTokens().get(EvalFixtures.EOT);
        int[] doc = Arrays.copyOf(documents(m.shardPaths(shards, ShardSchema.VALIDATION), eot, new long[1]).get(0), 20 * t + 7);

        double[] nll = new double[3];
        int[] batches = {1, 4, 16};
        for (int k = 0; k < batches.length; k++) {
            ModelScorer scorer = new ModelScorer(model, batches[k], t, eot);
            DocumentScorer d = new DocumentScorer(t, eot, batches[k], ids -> new byte[0], List.of(scorer));
            d.add(doc);
            nll[k] = d.stats().get(0).nll();
        }
        assertEquals(nll[0], nll[1], 1e-5 * nll[0]);
        assertEquals(nll[0], nll[2], 1e-5 * nll[0]);

        // A short window padded with end-of-text, and the same window padded with other ids.
        int[] shortDoc = Arrays.copyOf(doc, t / 3);
        RollingWindows.Window w = RollingWindows.of(shortDoc, t, eot).get(0);
        int[] otherPadding = w.input().clone();
        for (int j = w.to(); j < t; j++) {
            otherPadding[j] = (j * 7) % (eot == 0 ? 1 : eot);
        }
        RollingWindows.Window w2 = new RollingWindows.Window(otherPadding, w.target(), w.from(), w.to());
        double[][] a = new double[1][t];
        double[][] b = new double[1][t];
        new ModelScorer(model, 1, t, eot).score(List.of(w), a);
        new ModelScorer(model, 1, t, eot).score(List.of(w2), b);
        for (int j = w.from(); j < w.to(); j++) {
            assertEquals(a[0][j], b[0][j], 1e-6, "position " + j);
        }
    }

    /**
     * Documents are not the unit of parallelism: a validation split of one long document, cut into many batches,
     * is scored by several tasks on local[2] (more score tasks than documents) and equals the plain loop.
     */
    @Test
    void oneLongDocumentIsScoredBySeveralTasksAndEqualsThePlainLoop() throws IOException {
        Manifest m = Manifest.read(FS, shards);
        java.nio.file.Path dir = tmp.resolve("one-long");
        Files.createDirectories(dir);
        BpeTokenizer tok = TokenizerJson.read(Files.readString(tmp.resolve("tokenized").resolve("tokenizer.json")), "test");
        int eot = m.specialTokens().get(EvalFixtures.EOT);
        java.nio.file.Path speech = EvalFixtures.speechFiles(20).get(5);
        var info = EvalFixtures.shard(FS, new Path(dir.toUri()), "shards/validation/long.arrow", ShardSchema.VALIDATION,
                List.of(Files.readString(speech)), List.of(EvalFixtures.source(speech)), tok, m.tokenizerSha256(), eot);
        List<ShardInfo> keep = new ArrayList<>(m.shards(ShardSchema.TRAIN));
        keep.add(info);
        Path folder = new Path(copyShards("one-long", keep, m).toUri());
        int batch = 4;
        Map<String, String> o = Map.of("checkpoints", "[\"" + pretrain + "\"]", "shards", "[\"" + folder + "\"]",
                "output", tmp.resolve("reports-long").toString(), "run-name", "long", "generation.from-validation", "0",
                "batch-size", Integer.toString(batch));
        Evaluation.Result r = evaluate("local[2]", "long", o, 1).result();

        Reference ref = reference(folder, batch);
        List<LmStats> total = r.perShardSet().get(0);
        assertEquals(1, total.get(0).documents(), "one document");
        assertTrue(r.batches() >= 10, "the document spans many batches: " + r.batches());
        assertTrue(r.scoreTasks() >= 2 && r.widestDocumentTasks() >= 2, "the one document's batches ran in "
                + r.widestDocumentTasks() + " task(s) (" + r.scoreTasks() + " score tasks)");
        for (int i = 0; i < total.size(); i++) {
            LmStats e = ref.stats().get(i == 0 ? 1 : i + 1); // the newest checkpoint, then the three baselines
            LmStats s = total.get(i);
            assertEquals(e.tokens(), s.tokens());
            assertEquals(e.bytes(), s.bytes());
            assertEquals(e.words(), s.words());
            assertEquals(e.documents(), s.documents());
            assertEquals(e.nll(), s.nll(), 1e-9 * e.nll(), r.scorers().get(i));
        }
    }

    /**
     * An incremental tokenize run onto an old output leaves format 1 shards next to format 2 ones. Here the validation
     * split holds the fixture's validation shard twice: rewritten in format 1 (no sources) and as it is (format 2).
     * The format 1 copy's documents are one group named by the shard folder, with exactly the statistics of the
     * format 2 copy's documents, which are grouped by decade (group-by = pattern).
     */
    @Test
    void aFolderOfFormat1AndFormat2ShardsIsScoredWithTheFormat1DocumentsUnderTheFolder() throws IOException {
        Manifest m = Manifest.read(FS, shards);
        Path mixed = new Path(tmp.resolve("mixed").toUri());
        List<ShardInfo> infos = new ArrayList<>(); // the "old" run's: train and the format 1 validation shard
        List<ShardInfo> appended = new ArrayList<>(); // the "new" run's: the format 2 validation shard
        for (ShardInfo info : m.shards()) {
            FileUtil.copy(FS, new Path(shards, info.path()), FS, new Path(mixed, info.path()), false, FS.getConf());
            (info.split().equals(ShardSchema.VALIDATION) ? appended : infos).add(info);
            if (info.split().equals(ShardSchema.VALIDATION)) {
                String v1 = info.path().replace(".arrow", "-format1.arrow");
                var c = Format1Shards.copy(FS, new Path(shards, info.path()), new Path(mixed, v1), EvalFixtures.ROWS_PER_BLOCK);
                infos.add(new ShardInfo(v1, info.split(), c.rows(), c.tokens(), info.droppedTokens(), info.documents(),
                        c.bytes(), c.sha256()));
            }
        }
        FileUtil.copy(FS, new Path(shards, "tokenizer.json"), FS, new Path(mixed, "tokenizer.json"), false, FS.getConf());
        new Manifest(1, m.tokenizer(), m.tokenizerSha256(), m.vocabSize(), m.contextLength(), m.specialTokens(), null, List.of(), infos)
                .append(List.of(), appended, List.of()).write(FS, mixed);
        Map<String, String> o = Map.of("checkpoints", "[\"" + pretrain + "\"]", "shards", "[\"" + mixed + "\"]",
                "output", tmp.resolve("reports-mixed").toString(), "run-name", "mixed", "generation.from-validation", "0",
                "per-source.group-by", "pattern", "per-source.pattern", "/(\\d\\d\\d)\\d_[^/]*$");
        Evaluate.Outcome out = evaluate("local[2]", "mixed", o, 1);

        Reference ref = reference();
        List<LmStats> total = out.result().perShardSet().get(0);
        Map<String, List<LmStats>> groups = out.result().perSource().get(0).groups();
        List<LmStats> folder = groups.get(mixed.toString());
        assertTrue(folder != null, "the format 1 shard's documents are grouped under the folder: " + groups.keySet());
        List<String> decades = groups.keySet().stream().filter(g -> !g.equals(mixed.toString())).toList();
        assertTrue(!decades.isEmpty() && decades.stream().allMatch(g -> g.matches("1[78]\\d")), decades.toString());
        // Scorers: the newest checkpoint (the plain loop's index 1), then the three baselines (its 2, 3, 4).
        for (int i = 0; i < total.size(); i++) {
            LmStats r = ref.stats().get(i == 0 ? 1 : i + 1);
            LmStats f = folder.get(i);
            LmStats v2 = LmStats.ZERO;
            for (String g : decades) {
                v2 = v2.plus(groups.get(g).get(i));
            }
            for (LmStats s : List.of(f, v2)) {
                assertEquals(r.tokens(), s.tokens());
                assertEquals(r.bytes(), s.bytes());
                assertEquals(r.words(), s.words());
                assertEquals(r.documents(), s.documents());
                assertEquals(r.nll(), s.nll(), 1e-9 * r.nll(), out.result().scorers().get(i));
            }
            assertEquals(2 * r.tokens(), total.get(i).tokens());
            assertEquals(total.get(i).nll(), f.nll() + v2.nll(), 1e-12 * total.get(i).nll());
        }
        JsonNode json = new ObjectMapper().readTree(tmp.resolve("reports-mixed").resolve("mixed").resolve("report.json").toFile());
        assertEquals(mixed.toString(), json.path("results").path(0).path("shards").asText());
        assertEquals(groups.size(), json.path("per_source").path("sets").path(0).path("groups").size());
        assertEquals(2, Manifest.read(FS, mixed).formatVersion(), "appending to a format 1 manifest records format 2");
    }

    @Test
    void badInputsAreRefusedBeforeAnythingIsWritten() throws IOException {
        Configuration conf = new Configuration();
        java.nio.file.Path reports = tmp.resolve("bad-reports");

        // A report folder that exists.
        Files.createDirectories(reports.resolve("exists"));
        assertRefused(conf, Map.of("output", reports.toString(), "run-name", "exists"), "already exists", reports.resolve("exists").toString());

        // A checkpoint whose tokenizer is not the shards'.
        java.nio.file.Path step = tmp.resolve("pretrain").resolve("checkpoints").resolve(CheckpointStore.name(60));
        java.nio.file.Path other = tmp.resolve("other-tokenizer").resolve("checkpoints").resolve(step.getFileName());
        Files.createDirectories(other);
        Files.copy(step.resolve("model.zip"), other.resolve("model.zip"));
        Files.writeString(other.resolve("state.json"), Files.readString(step.resolve("state.json"))
                .replaceAll("\"tokenizer_sha256\" : \"[0-9a-f]+\"", "\"tokenizer_sha256\" : \"0123abcd\""));
        assertRefused(conf, Map.of("checkpoints", "[\"" + other + "\"]", "output", reports.toString(), "run-name", "r"),
                "0123abcd", other.toString());

        // A missing split: a shard folder whose manifest lists train shards only.
        Manifest m = Manifest.read(FS, shards);
        java.nio.file.Path noValidation = copyShards("no-validation", m.shards(ShardSchema.TRAIN), m);
        assertRefused(conf, Map.of("shards", "[\"" + noValidation + "\"]", "output", reports.toString(), "run-name", "r"),
                "no shards of split \"validation\"", noValidation.toString());

        // An empty shard set: the validation split has a shard with no rows.
        java.nio.file.Path empty = tmp.resolve("empty-validation");
        Path emptyDir = new Path(empty.toUri());
        Files.createDirectories(empty);
        BpeTokenizer tok = TokenizerJson.read(Files.readString(tmp.resolve("tokenized").resolve("tokenizer.json")), "test");
        var info = EvalFixtures.shard(FS, emptyDir, "shards/validation/empty.arrow", ShardSchema.VALIDATION, List.of(), tok,
                m.tokenizerSha256(), m.specialTokens().get(EvalFixtures.EOT));
        List<ShardInfo> withEmpty = new ArrayList<>(m.shards(ShardSchema.TRAIN));
        withEmpty.add(info);
        copyShards("empty-validation", withEmpty, m);
        assertRefused(conf, Map.of("shards", "[\"" + empty + "\"]", "output", reports.toString(), "run-name", "r"),
                "hold no rows", empty.toString());

        try (var s = Files.list(reports)) {
            assertEquals(List.of("exists"), s.map(p -> p.getFileName().toString()).toList(), "nothing was written");
        }
    }

    private static java.nio.file.Path copyShards(String name, List<ShardInfo> keep, Manifest m) throws IOException {
        java.nio.file.Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        java.nio.file.Path source = tmp.resolve("tokenized");
        Files.copy(source.resolve("tokenizer.json"), dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        for (ShardInfo s : keep) {
            java.nio.file.Path target = dir.resolve(s.path());
            if (!Files.exists(target)) {
                Files.createDirectories(target.getParent());
                Files.copy(source.resolve(s.path()), target);
            }
        }
        new Manifest(m.formatVersion(), m.tokenizer(), m.tokenizerSha256(), m.vocabSize(), m.contextLength(), m.specialTokens(),
                m.config(), m.inputs(), keep).write(FS, new Path(dir.toUri()));
        return dir;
    }

    private static void assertRefused(Configuration conf, Map<String, String> changes, String... expected) {
        Map<String, String> o = new HashMap<>(overrides("r"));
        o.putAll(changes);
        InvalidConfigException e = Assertions.assertThrows(
                InvalidConfigException.class, () -> Inputs.check(EvalFixtures.config(o), conf));
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "message should contain " + s + ": " + e.getMessage());
        }
        assertFalse(e.getMessage().isBlank());
    }
}
