package dev.kiln.finetune;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.TaskBinaryWarnings;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A classify fine-tune's encoding job carries no tokenizer in its tasks: a multi-megabyte tokenizer.json (the bytes plus
 * 60,000 special tokens; in a task closure it made a 14 MiB task binary) reaches the executors by one broadcast, so Spark never
 * warns "Broadcasting large task binary" (it does above 1 MiB of serialized task).
 */
class LabelledDocumentsClosureTest {
    @TempDir
    Path tmp;

    @Test
    void encodingSotuSpeechesWithAMultiMegabyteTokenizerLogsNoLargeTaskBinary() throws Exception {
        List<String> specials = new ArrayList<>(List.of("<|endoftext|>"));
        for (int i = 0; i < 60_000; i++) {
            specials.add("<|reserved_special_token_" + i + "|>");
        }
        BpeTokenizer tokenizer = BpeTrainer.train(Map.of(), PreTokenizer.GPT2, 256 + specials.size(), specials, 1, null);
        String json = TokenizerJson.write(tokenizer);
        assertTrue(json.length() > 1 << 20, "the tokenizer must be over Spark's 1 MiB task-binary threshold: " + json.length());

        List<Row> rows = new ArrayList<>();
        List<Path> speeches = CausalFinetuningTest.files(SampleCorpora.sotu(), 1, 24);
        for (int i = 0; i < speeches.size(); i++) {
            String text = Files.readString(speeches.get(i), StandardCharsets.ISO_8859_1);
            rows.add(RowFactory.create(speeches.get(i).getFileName().toString(), text, FileHashes.sha256(text),
                    Map.of("label", i % 2 == 0 ? "even" : "odd")));
        }
        StructType schema = new StructType().add("id", DataTypes.StringType).add("text", DataTypes.StringType)
                .add("hash", DataTypes.StringType).add("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType));
        SparkSession spark = LocalSpark.get();
        Path documents = tmp.resolve("documents");
        spark.createDataFrame(rows, schema).repartition(4).write().parquet(documents.toString());

        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.finetune.checkpoint", tmp.resolve("unused").toString());
        o.put("kiln.finetune.documents", documents.toString());
        Config c = KilnConfig.load(null, o);
        LabelledDocuments.Data[] data = new LabelledDocuments.Data[1];
        List<String> warnings = TaskBinaryWarnings.during(() ->
                data[0] = LabelledDocuments.read(spark, FinetuneConfig.from(c), json, "tokenizer.json", 64));
        assertEquals(List.of(), warnings);
        assertEquals(List.of("even", "odd"), data[0].labels());
    }
}
