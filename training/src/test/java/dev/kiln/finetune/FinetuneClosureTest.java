package dev.kiln.finetune;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.TaskBinaryWarnings;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.Pretrainer;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A causal fine-tune's rounds on two workers carry no model or data in their tasks: the parent (a 3.5 MB model,
 * d-model 192, 2 layers) and the examples reach the executors by broadcast, so Spark never warns "Broadcasting
 * large task binary" (it does above 1 MiB of serialized task).
 */
class FinetuneClosureTest {
    @TempDir
    java.nio.file.Path tmp;

    @Test
    void causalRoundsOnTwoWorkersWithAMultiMegabyteParentLogNoLargeTaskBinary() throws Exception {
        CausalFinetuningTest.fs = FileSystem.getLocal(new Configuration());
        BpeTokenizer tokenizer = BpeTrainer.train(Map.of(), PreTokenizer.GPT2, 257, List.of(CausalFinetuningTest.EOT), 1, null);
        String json = TokenizerJson.write(tokenizer);
        Path sotu = CausalFinetuningTest.shards(tmp.resolve("sotu-shards"), tokenizer, json,
                CausalFinetuningTest.files(SampleCorpora.sotu(), 1, 6));
        Path mail = CausalFinetuningTest.shards(tmp.resolve("mail-shards"), tokenizer, json,
                CausalFinetuningTest.files(SampleCorpora.spamAssassin().resolve("easy-ham-1"), 25, 20));
        java.nio.file.Path parent = tmp.resolve("pretrain");
        Map<String, String> p = new LinkedHashMap<>();
        p.put("kiln.train.shards", sotu.toString());
        p.put("kiln.train.output", parent.toString());
        p.put("kiln.train.model.layers", "2");
        p.put("kiln.train.model.d-model", "192");
        p.put("kiln.train.model.heads", "4");
        p.put("kiln.train.batch-size", "4");
        p.put("kiln.train.steps", "2");
        p.put("kiln.train.optimizer.warmup-steps", "1");
        p.put("kiln.train.validation.every", "0");
        p.put("kiln.train.checkpoint.every", "0");
        Config pc = KilnConfig.load(null, p);
        Pretraining.run(null, TrainConfig.from(pc), Lineage.of("pretrain", pc, TrainConfig.SECTION, null), false);
        long parentBytes;
        try (Stream<java.nio.file.Path> files = Files.walk(parent.resolve("checkpoints"))) {
            parentBytes = files.filter(f -> f.getFileName().toString().equals("model.zip")).mapToLong(f -> f.toFile().length()).sum();
        }
        assertTrue(parentBytes > 2L << 20, "the parent must be over Spark's 1 MiB task-binary threshold: " + parentBytes);

        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.finetune.task", "causal");
        o.put("kiln.finetune.checkpoint", parent.toString());
        o.put("kiln.finetune.output", tmp.resolve("causal").toString());
        o.put("kiln.finetune.batch-size", "4");
        o.put("kiln.finetune.log-every", "2");
        o.put("kiln.finetune.parallel.workers", "2");
        o.put("kiln.finetune.parallel.average-every", "2");
        o.put("kiln.finetune.causal.shards", mail.toString());
        o.put("kiln.finetune.causal.steps", "4");
        o.put("kiln.finetune.causal.warmup-steps", "1");
        o.put("kiln.finetune.causal.validation-every", "4");
        o.put("kiln.finetune.causal.validation-batches", "1");
        o.put("kiln.finetune.causal.checkpoint-every", "4");
        Config c = KilnConfig.load(null, o);
        Pretrainer.Result[] result = new Pretrainer.Result[1];
        List<String> warnings = TaskBinaryWarnings.during(() -> result[0] = CausalFinetuning.run(LocalSpark.get(),
                FinetuneConfig.from(c), Lineage.of("finetune", c, FinetuneConfig.SECTION, null), false));
        assertEquals(List.of(), warnings);
        assertEquals(4, result[0].endStep());
    }
}
