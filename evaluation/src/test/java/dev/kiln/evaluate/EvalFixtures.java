package dev.kiln.evaluate;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.PreTokenCounts;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import dev.kiln.train.Pretraining;
import dev.kiln.train.TrainConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Real inputs for the evaluation tests, made quickly: the first SOTU speeches, a byte-level BPE tokenizer trained on
 * them (vocabulary 512), Kiln token shards written with small record batches (so one shard feeds several tasks),
 * and a tiny GPT (d=64, 2 layers, context 64) pre-trained a few dozen steps by the real trainer.
 */
final class EvalFixtures {
    static final int CONTEXT = 64;
    static final int VOCAB = 512;
    static final String EOT = "<|endoftext|>";
    static final int ROWS_PER_BLOCK = 64;

    private EvalFixtures() {
    }

    static List<String> speeches(int n) throws IOException {
        List<String> out = new ArrayList<>();
        for (java.nio.file.Path f : speechFiles(n)) {
            out.add(Files.readString(f));
        }
        return out;
    }

    /** The first {@code n} SOTU speech files, by name (so by year). */
    static List<java.nio.file.Path> speechFiles(int n) throws IOException {
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.sotu())) {
            return s.filter(p -> p.toString().endsWith(".txt")).sorted().limit(n).toList();
        }
    }

    /** The source {@code kiln tokenize} records for a speech file: its URI, as preprocess's source column has it. */
    static String source(java.nio.file.Path speech) {
        return speech.toUri().toString();
    }

    /** A tokenize-style folder: tokenizer.json, manifest.json, shards; every 10th speech (from the 6th) is validation. */
    static Path shards(java.nio.file.Path dir, int speeches) throws IOException {
        List<String> docs = speeches(speeches);
        List<String> sources = speechFiles(speeches).stream().map(EvalFixtures::source).toList();
        List<String> train = new ArrayList<>();
        List<String> validation = new ArrayList<>();
        List<String> trainSources = new ArrayList<>();
        List<String> validationSources = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            (i % 10 == 5 ? validation : train).add(docs.get(i));
            (i % 10 == 5 ? validationSources : trainSources).add(sources.get(i));
        }
        BpeTokenizer tok = BpeTrainer.train(PreTokenCounts.count(PreTokenizer.GPT4, train.iterator()), PreTokenizer.GPT4,
                VOCAB, List.of(EOT), 2, null);
        String json = TokenizerJson.write(tok);
        String sha = FileHashes.sha256(json);
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path out = new Path(dir.toUri());
        AtomicOutput.writeString(fs, new Path(out, "tokenizer.json"), json);
        int eot = tok.specialTokenId(EOT);
        List<ShardInfo> infos = new ArrayList<>();
        infos.add(shard(fs, out, "shards/train/part-0.arrow", ShardSchema.TRAIN, evenOdd(train, 0), evenOdd(trainSources, 0), tok, sha, eot));
        infos.add(shard(fs, out, "shards/train/part-1.arrow", ShardSchema.TRAIN, evenOdd(train, 1), evenOdd(trainSources, 1), tok, sha, eot));
        infos.add(shard(fs, out, "shards/validation/part-0.arrow", ShardSchema.VALIDATION, validation, validationSources, tok, sha, eot));
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "tokenizer.json", sha, tok.vocabSize(), CONTEXT,
                tok.specialTokenIds(), null, List.of(), infos).write(fs, out);
        return out;
    }

    private static List<String> evenOdd(List<String> docs, int parity) {
        List<String> out = new ArrayList<>();
        for (int i = parity; i < docs.size(); i += 2) {
            out.add(docs.get(i));
        }
        return out;
    }

    static ShardInfo shard(FileSystem fs, Path dir, String name, String split, List<String> docs, BpeTokenizer tok,
                           String sha, int eot) throws IOException {
        return shard(fs, dir, name, split, docs, docs.stream().map(d -> "unnamed").toList(), tok, sha, eot);
    }

    /** A format 2 shard of {@code docs}, each with its source, packed as {@code kiln tokenize} packs them. */
    static ShardInfo shard(FileSystem fs, Path dir, String name, String split, List<String> docs, List<String> sources, BpeTokenizer tok,
                           String sha, int eot) throws IOException {
        try (ShardWriter w = ShardWriter.create(fs, new Path(dir, name), new ShardSchema.Header(CONTEXT, tok.vocabSize(), sha, split),
                ROWS_PER_BLOCK)) {
            RowPacker packer = RowPacker.withSources(CONTEXT, w::write);
            for (int d = 0; d < docs.size(); d++) {
                String doc = docs.get(d);
                packer.startDocument(sources.get(d));
                int[] ids = tok.encode(doc);
                packer.add(ids, ids.length);
                packer.add(eot);
            }
            ShardWriter.Committed c = w.commit();
            return new ShardInfo(name, split, c.rows(), packer.coveredTokens(), packer.droppedTokens(), docs.size(), c.bytes(), c.sha256());
        }
    }

    /**
     * Pre-trains the tiny model on {@code shards} for {@code steps} steps in this JVM, with a checkpoint every
     * {@code checkpointEvery} steps and at the end; returns the pretrain output folder.
     */
    static Path pretrain(Path shards, java.nio.file.Path output, int steps, int checkpointEvery) throws IOException {
        return pretrain(shards, output, steps, checkpointEvery, 64);
    }

    /** {@link #pretrain(Path, java.nio.file.Path, int, int)} with a model {@code dModel} wide (2 layers, 4 heads). */
    static Path pretrain(Path shards, java.nio.file.Path output, int steps, int checkpointEvery, int dModel) throws IOException {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("kiln.train.shards", shards.toString());
        o.put("kiln.train.output", output.toString());
        o.put("kiln.train.model.layers", "2");
        o.put("kiln.train.model.d-model", Integer.toString(dModel));
        o.put("kiln.train.model.heads", "4");
        o.put("kiln.train.batch-size", "16");
        o.put("kiln.train.steps", Integer.toString(steps));
        o.put("kiln.train.optimizer.learning-rate", "3e-3");
        o.put("kiln.train.optimizer.min-learning-rate", "3e-4");
        o.put("kiln.train.optimizer.warmup-steps", "10");
        o.put("kiln.train.log-every", "20");
        o.put("kiln.train.validation.every", "0");
        o.put("kiln.train.checkpoint.every", Integer.toString(checkpointEvery));
        Config c = KilnConfig.load(null, o);
        Pretraining.run(null, TrainConfig.from(c), Lineage.of("pretrain", c, TrainConfig.SECTION, null), false);
        return new Path(output.toUri());
    }

    /** kiln.evaluate with the given overrides (keys relative to kiln.evaluate). */
    static EvaluateConfig config(Map<String, String> overrides) {
        Map<String, String> o = new LinkedHashMap<>();
        overrides.forEach((k, v) -> o.put("kiln.evaluate." + k, v));
        return EvaluateConfig.from(KilnConfig.load(null, o));
    }

    /** The lineage the job would hand over, with the Spark version on the test classpath. */
    static Lineage lineage(Map<String, String> overrides) {
        Map<String, String> o = new LinkedHashMap<>();
        overrides.forEach((k, v) -> o.put("kiln.evaluate." + k, v));
        return Lineage.of("evaluate", KilnConfig.load(null, o), EvaluateConfig.SECTION,
                org.apache.spark.package$.MODULE$.SPARK_VERSION());
    }
}
