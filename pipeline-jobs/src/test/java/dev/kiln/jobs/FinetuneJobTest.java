package dev.kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LineageAssertions;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.checkpoint.Checkpoint;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.DataPosition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;
import scala.collection.JavaConverters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `kiln finetune` through its static run: a tiny end-to-end run (random tiny GPT parent, 48 synthetic labelled
 * documents), and bad input exiting 2 with a message naming the path or key. The learning itself is tested in
 * training (FinetuningTest, on real SpamAssassin mail).
 */
class FinetuneJobTest {
    @TempDir
    static Path tmp;
    static Path run;
    static Path documents;

    @BeforeAll
    static void setUp() throws IOException {
        System.setProperty("spark.master", "local[1]");
        System.setProperty("spark.ui.enabled", "false");
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
        run = tinyRun();
        documents = tmp.resolve("preprocessed");
        StructType schema = new StructType().add("id", DataTypes.StringType).add("text", DataTypes.StringType)
                .add("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType))
                .add("hash", DataTypes.StringType).add("cluster_id", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 48; i++) {
            String label = i % 3 == 0 ? "spam" : "ham";
            String text = label.equals("spam") ? "WIN MONEY NOW!!! click here " + i : "hi, the meeting is at " + i;
            rows.add(RowFactory.create("d" + i, text, JavaConverters.mapAsScalaMap(Map.of("label", label))
                    .toMap(scala.Predef.$conforms()), "h" + i, "d" + i));
        }
        SparkSession spark = SparkSession.builder().getOrCreate();
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(documents.resolve("documents").toString());
    }

    @AfterAll
    static void clear() {
        for (String p : new String[]{"spark.master", "spark.ui.enabled", "spark.driver.host", "spark.driver.bindAddress"}) {
            System.clearProperty(p);
        }
    }

    private static Object[] run(String... args) {
        JobRuns.Run r = JobRuns.capture(() -> FinetuneJob.run(args));
        return new Object[]{r.status(), r.err(), r.out()};
    }

    /** shards/{tokenizer.json, manifest.json} and run/checkpoints/step-00000001/ (tiny random GPT, context 16). */
    private static Path tinyRun() throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        org.apache.hadoop.fs.Path shards = new org.apache.hadoop.fs.Path(tmp.resolve("shards").toUri());
        String json = TokenizerJson.write(BpeTrainer.train(Map.of(),
                PreTokenizer.GPT2, 257, List.of("<|endoftext|>"), 1, null));
        String sha = FileHashes.sha256(json);
        AtomicOutput.writeString(fs, new org.apache.hadoop.fs.Path(shards, "tokenizer.json"), json);
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha,
                257, 16, Map.of("<|endoftext|>", 0), null, List.of(), List.of()).write(fs, shards);
        var model = GptModel.build(new GptConfig(257, 16, 32, 1, 2, 2),
                new NoOp(), 0, 1, DataType.FLOAT);
        Path r = tmp.resolve("tiny-run");
        new CheckpointStore(fs, new org.apache.hadoop.fs.Path(r.resolve("checkpoints").toUri()), 1)
                .save(new Checkpoint(1, model, DataPosition.START, null,
                        "{\"shards\":\"" + shards + "\"}", sha, 1));
        return r;
    }

    @Test
    void aTinyRunWritesCheckpointsMetricsAndPredictions() throws IOException {
        Path out = tmp.resolve("ft");
        Object[] r = run("-Dkiln.finetune.checkpoint=" + run, "-Dkiln.finetune.documents=" + documents,
                "-Dkiln.finetune.output=" + out, "-Dkiln.finetune.epochs=2", "-Dkiln.finetune.batch-size=8",
                "-Dkiln.finetune.split.validation-fraction=0.2", "-Dkiln.finetune.split.test-fraction=0.2");
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        assertTrue(((String) r[2]).contains("kiln finetune: labels [ham, spam]"), (String) r[2]);
        assertTrue(Files.isRegularFile(out.resolve("metrics.jsonl")));
        assertTrue(Files.isRegularFile(out.resolve("predictions/part-00000.jsonl")));
        try (var s = Files.list(out.resolve("best"))) {
            assertEquals(1, s.count(), "one best checkpoint");
        }
        try (var s = Files.list(out.resolve("checkpoints"))) {
            Path newest = s.sorted().reduce((x, y) -> y).orElseThrow();
            JsonNode state = new ObjectMapper()
                    .readTree(newest.resolve("state.json").toFile());
            LineageAssertions.assertLineage(state.path("lineage"), "finetune", "kiln.finetune");
            assertEquals(org.apache.spark.package$.MODULE$.SPARK_VERSION(), state.path("lineage").path("runtime").path("spark").asText(),
                    "the running session's Spark version");
            assertEquals(state.path("config"), state.path("lineage").path("config"));
        }

        // Without --resume the job refuses to start over in a folder that holds checkpoints; with it, it continues
        // (here: nothing left to do) and still labels the test split.
        Object[] again = run("-Dkiln.finetune.checkpoint=" + run, "-Dkiln.finetune.documents=" + documents,
                "-Dkiln.finetune.output=" + out, "-Dkiln.finetune.epochs=2", "-Dkiln.finetune.batch-size=8",
                "-Dkiln.finetune.split.validation-fraction=0.2", "-Dkiln.finetune.split.test-fraction=0.2");
        assertEquals(2, again[0], (String) again[1]);
        assertTrue(((String) again[1]).contains("--resume"), (String) again[1]);
        Object[] resumed = run("-Dkiln.finetune.checkpoint=" + run, "-Dkiln.finetune.documents=" + documents,
                "-Dkiln.finetune.output=" + out, "-Dkiln.finetune.epochs=2", "-Dkiln.finetune.batch-size=8",
                "-Dkiln.finetune.split.validation-fraction=0.2", "-Dkiln.finetune.split.test-fraction=0.2", "--resume");
        assertEquals(0, resumed[0], resumed[1] + "\n" + resumed[2]);
    }

    @Test
    void aDryRunChecksTheParentAndTheDocumentsAndWritesNothing() throws IOException {
        Path out = tmp.resolve("dry");
        Object[] r = run("-Dkiln.finetune.checkpoint=" + run, "-Dkiln.finetune.documents=" + documents,
                "-Dkiln.finetune.output=" + out, "-Dkiln.finetune.epochs=2", "--dry-run");
        assertEquals(0, r[0], r[1] + "\n" + r[2]);
        String plan = (String) r[2];
        assertTrue(plan.contains("parent: ") && plan.contains("step-00000001 (step 1)"), plan);
        assertTrue(plan.contains("context 16, vocabulary 257") && plan.contains("(1 Parquet file(s)), labels from metadata key")
                && plan.contains("would train 2 epoch(s)") && plan.contains("no checkpoint yet"), plan);
        assertTrue(!Files.exists(out), "a dry run writes nothing");

        // The checks a run makes: shards of another tokenizer (causal) and a missing documents folder exit 2, naming them.
        Object[] missing = run("-Dkiln.finetune.checkpoint=" + run, "-Dkiln.finetune.documents=" + tmp.resolve("no-documents"),
                "-Dkiln.finetune.output=" + out, "--dry-run");
        assertEquals(2, missing[0], (String) missing[1]);
        assertTrue(((String) missing[1]).contains("kiln.finetune.documents") && ((String) missing[1]).contains("no-documents"),
                (String) missing[1]);
        assertTrue(!Files.exists(out), "a dry run writes nothing");
    }

    @Test
    void aFolderThatIsNotAKilnCheckpointExits2NamingIt() throws IOException {
        Path fake = Files.createDirectories(tmp.resolve("not-a-checkpoint"));
        Object[] r = run("-Dkiln.finetune.checkpoint=" + fake, "-Dkiln.finetune.documents=" + documents,
                "-Dkiln.finetune.output=" + tmp.resolve("never"));
        assertEquals(2, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains(fake.toString()) && ((String) r[1]).contains("not a Kiln checkpoint"), (String) r[1]);
    }

    @Test
    void causalShardsOfAnotherTokenizerExit2NamingBothTokenizers() throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        String json = TokenizerJson.write(BpeTrainer.train(Map.of(),
                PreTokenizer.GPT2, 258, List.of("<|endoftext|>", "<|other|>"), 1, null));
        String sha = FileHashes.sha256(json);
        org.apache.hadoop.fs.Path other = new org.apache.hadoop.fs.Path(tmp.resolve("other-shards").toUri());
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha,
                258, 16, Map.of("<|endoftext|>", 0), null, List.of(), List.of()).write(fs, other);
        Object[] r = run("-Dkiln.finetune.task=causal", "-Dkiln.finetune.checkpoint=" + run,
                "-Dkiln.finetune.causal.shards=" + other, "-Dkiln.finetune.output=" + tmp.resolve("never-causal"));
        assertEquals(2, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("kiln.finetune.causal.shards") && ((String) r[1]).contains(sha),
                (String) r[1]);
        assertTrue(!Files.exists(tmp.resolve("never-causal")), "nothing written");
    }

    @Test
    void aMissingCheckpointKeyExits2BeforeSparkStarts() {
        Object[] r = run("-Dkiln.finetune.documents=" + documents);
        assertEquals(2, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("kiln.finetune.checkpoint"), (String) r[1]);
    }
}
