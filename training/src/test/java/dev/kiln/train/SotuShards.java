package dev.kiln.train;

import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.RowPacker;
import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;
import dev.kiln.shards.ShardWriter;
import dev.kiln.train.data.TokenBatches;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Token shards of the real SOTU sample in Kiln's shard format (ShardWriter, RowPacker, manifest.json), with a
 * byte-level encoding: ids 0-255 are UTF-8 bytes, 256 ends a speech. (The tokenizer is not on main yet; the
 * training code only sees shards and the manifest, exactly as it will with `kiln tokenize` output.)
 * Every 10th speech goes to the validation split.
 */
public final class SotuShards {
    public static final int VOCAB = 257;
    public static final int END_OF_TEXT = 256;
    public static final String TOKENIZER_SHA = "byte-level-utf8-test";

    private SotuShards() {
    }

    /** Writes shards of the first {@code speeches} speeches (by file name) under {@code dir}; returns the folder. */
    public static Path write(java.nio.file.Path dir, int contextLength, int speeches) throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path out = new Path(dir.toUri());
        List<java.nio.file.Path> files;
        try (Stream<java.nio.file.Path> s = Files.list(SampleCorpora.sotu())) {
            files = s.filter(p -> p.toString().endsWith(".txt")).sorted().limit(speeches).toList();
        }
        List<ShardInfo> infos = new ArrayList<>();
        List<List<java.nio.file.Path>> trainParts = List.of(new ArrayList<>(), new ArrayList<>());
        List<java.nio.file.Path> validation = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            if (i % 10 == 5) {
                validation.add(files.get(i));
            } else {
                trainParts.get(i % 2).add(files.get(i));
            }
        }
        infos.add(shard(fs, out, "train-0.arrow", ShardSchema.TRAIN, trainParts.get(0), contextLength));
        infos.add(shard(fs, out, "train-1.arrow", ShardSchema.TRAIN, trainParts.get(1), contextLength));
        infos.add(shard(fs, out, "validation-0.arrow", ShardSchema.VALIDATION, validation, contextLength));
        new Manifest(Integer.parseInt(ShardSchema.FORMAT_VERSION), "byte-level", TOKENIZER_SHA, VOCAB, contextLength,
                Map.of("<|endoftext|>", END_OF_TEXT), null, List.of(), infos).write(fs, out);
        return out;
    }

    private static ShardInfo shard(FileSystem fs, Path dir, String name, String split, List<java.nio.file.Path> docs,
                                   int contextLength) throws IOException {
        try (ShardWriter w = ShardWriter.create(fs, new Path(dir, name),
                new ShardSchema.Header(contextLength, VOCAB, TOKENIZER_SHA, split), 64)) {
            RowPacker packer = new RowPacker(contextLength, w::write);
            for (java.nio.file.Path doc : docs) {
                for (byte b : Files.readString(doc).getBytes(StandardCharsets.UTF_8)) {
                    packer.add(b & 0xff);
                }
                packer.add(END_OF_TEXT);
            }
            ShardWriter.Committed c = w.commit();
            return new ShardInfo(name, split, c.rows(), packer.coveredTokens(), packer.droppedTokens(), docs.size(),
                    c.bytes(), c.sha256());
        }
    }

    /**
     * Cross-entropy (nats per token) of the validation rows' labels under the training split's unigram
     * distribution (add-one smoothing): the loss of a model that ignores context.
     */
    public static double unigramLoss(FileSystem fs, Path shards, List<int[][]> validation) throws IOException {
        Manifest m = Manifest.read(fs, shards);
        long[] counts = new long[m.vocabSize()];
        long total = 0;
        try (TokenBatches b = TokenBatches.builder(fs, m.shardPaths(shards, ShardSchema.TRAIN))
                .batchSize(256).open()) {
            while (b.hasNext()) {
                for (int[] row : b.next()) {
                    for (int j = 1; j < row.length; j++) {
                        counts[row[j]]++;
                        total++;
                    }
                }
            }
        }
        double sum = 0;
        long n = 0;
        for (int[][] batch : validation) {
            for (int[] row : batch) {
                for (int j = 1; j < row.length; j++) {
                    sum -= Math.log((counts[row[j]] + 1.0) / (total + counts.length));
                    n++;
                }
            }
        }
        return sum / n;
    }
}
