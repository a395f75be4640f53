package dev.kiln.train.parallel;

import com.typesafe.config.Config;
import dev.kiln.model.GptModel;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LocalSpark;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.SotuShards;
import dev.kiln.train.TinyRuns;
import dev.kiln.train.TrainConfig;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.data.ShardBatches;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tied model (the default) trains through Spark parameter averaging and its checkpoint reloads exactly. */
class TiedTrainingTest {
    @TempDir
    static java.nio.file.Path tmp;

    @Test
    void tiedModelTrainsWithTwoAveragingWorkersAndItsCheckpointReloads() throws IOException {
        Path shards = SotuShards.write(tmp.resolve("shards"), TinyRuns.CONTEXT, 20);
        SparkSession spark = LocalSpark.get();
        Config c = TinyRuns.config(shards.toString(), tmp.resolve("run").toString(), Map.of(
                "steps", "10", "batch-size", "8", "parallel.workers", "2", "parallel.average-every", "5",
                "validation.every", "10", "checkpoint.every", "0"));
        TrainConfig cfg = TrainConfig.from(c);
        assertTrue(cfg.model().tieEmbeddings(), "tied is the default");
        Pretrainer.Result r = Pretraining.run(spark, cfg, TinyRuns.lineage(c), false);

        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path folder = new CheckpointStore(fs, new Path(tmp.resolve("run").toString(), "checkpoints"), 10).latest().orElseThrow();
        ComputationGraph model = new CheckpointStore(fs, folder.getParent(), 10).load(folder).model();
        assertTrue(GptModel.isTied(model), "the checkpoint holds a tied model");
        assertTrue(r.lastValidationLoss() < Math.log(GptModel.shapeOf(model).vocabSize()) - 1,
                "it learns: " + r.lastValidationLoss() + " nats/token after 10 steps");

        // The reloaded model scores the run's validation batches exactly as the trained one did.
        Manifest manifest = Manifest.read(fs, shards);
        List<int[][]> validation = ShardBatches.firstBatches(fs, manifest.shardPaths(shards, ShardSchema.VALIDATION),
                cfg.batchSize(), cfg.validationBatches());
        double sum = 0;
        long rows = 0;
        for (int[][] batch : validation) {
            sum += GptModel.meanLoss(model, batch) * batch.length;
            rows += batch.length;
        }
        assertEquals(r.lastValidationLoss(), sum / rows, 1e-9, "the checkpoint's validation loss");
    }
}
