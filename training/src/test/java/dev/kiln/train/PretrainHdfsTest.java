package dev.kiln.train;

import com.typesafe.config.Config;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pretrain reads its shards from and writes checkpoints and metrics to an in-process HDFS (tiny model, a few steps),
 * and a resumed run continues from the newest checkpoint there.
 */
class PretrainHdfsTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void pretrainsAndResumesWithShardsAndCheckpointsOnHdfs() throws Exception {
        Path localShards = SotuShards.write(tmp.resolve("shards"), TinyRuns.CONTEXT, 20);
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(new Configuration(), tmp.resolve("hdfs").toFile()).numDataNodes(1).build();
        try {
            cluster.waitActive();
            FileSystem hdfs = cluster.getFileSystem();
            Path shards = hdfs.makeQualified(new Path("/kiln/tokenized"));
            hdfs.copyFromLocalFile(false, true, localShards, shards);
            Path out = hdfs.makeQualified(new Path("/kiln/pretrain"));
            Map<String, String> o = Map.of("steps", "6", "optimizer.warmup-steps", "2", "validation.every", "3",
                    "checkpoint.every", "3", "checkpoint.keep", "5");
            Config c = TinyRuns.config(shards.toString(), out.toString(), o);
            Pretrainer.Result first = Pretraining.run(null, TrainConfig.from(c), TinyRuns.lineage(c), false);
            assertEquals(6, first.endStep());
            List<String> checkpoints = Arrays.stream(hdfs.listStatus(new Path(out, "checkpoints")))
                    .map(FileStatus::getPath).map(Path::getName).sorted().toList();
            assertTrue(checkpoints.containsAll(List.of("step-00000003", "step-00000006")), checkpoints.toString());
            assertTrue(hdfs.isFile(new Path(out, "metrics.jsonl")));

            // As if the job had died after the step-3 checkpoint: a resumed run continues from it on HDFS.
            assertTrue(hdfs.delete(new Path(out, "checkpoints/step-00000006"), true));
            Pretrainer.Result resumed = Pretraining.run(null, TrainConfig.from(c), TinyRuns.lineage(c), true);
            assertEquals(3, resumed.startStep(), "resumed from the step-3 checkpoint on HDFS");
            assertEquals(6, resumed.endStep());
            assertTrue(hdfs.isDirectory(new Path(out, "checkpoints/step-00000006")));
        } finally {
            cluster.shutdown();
        }
    }
}
