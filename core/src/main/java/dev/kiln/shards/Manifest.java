package dev.kiln.shards;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.common.io.FileHashes;
import dev.kiln.common.io.MissingInputException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code manifest.json}: what a tokenize output folder holds and where it came from. Shards and inputs only grow:
 * an incremental run appends the shards made from the preprocess runs (or, for a plain folder of Parquet files, the
 * input files) that are not yet listed.
 *
 * @param formatVersion   the newest shard format version in the folder ({@link ShardSchema#FORMAT_VERSION}; 1 or 2:
 *                        an incremental run onto a format 1 folder appends format 2 shards and sets 2)
 * @param tokenizer       path of the tokenizer file, relative to the manifest folder ({@code tokenizer.json})
 * @param tokenizerSha256 SHA-256 of that file; every shard carries the same value in its metadata
 * @param vocabSize       vocabulary size, special tokens included
 * @param contextLength   T: each row has T + 1 tokens
 * @param specialTokens   special token strings and their ids (e.g. {@code <|endoftext|>} separates documents)
 * @param config          the effective {@code kiln.tokenize} configuration of the first run (lineage)
 * @param inputs          the input files tokenized so far
 * @param shards          every committed shard, in the order they were written
 * @param preprocessRuns  the {@code kiln preprocess} runs tokenized so far (empty when the input is a plain folder)
 * @param lineage         {@link dev.kiln.common.config.Lineage#toJson()} of the first run (which made the tokenizer), or
 *                        null in manifests written before Kiln recorded lineage
 */
public record Manifest(int formatVersion, String tokenizer, String tokenizerSha256, int vocabSize, int contextLength,
                       Map<String, Integer> specialTokens, JsonNode config, List<InputFile> inputs, List<ShardInfo> shards,
                       List<PreprocessRun> preprocessRuns, JsonNode lineage) {
    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** An input file as it was when tokenized (identified by its path; size and mtime let a rerun detect that it changed). */
    public record InputFile(String path, long size, long modificationTime) {
    }

    /**
     * A tokenized preprocess run: its number and the SHA-256 of its {@code runs/run=NNNN/manifest.json}, so a run
     * that was rewritten (or removed) since is recognised, and the documents it held.
     */
    public record PreprocessRun(int run, String manifestSha256, long documents) {
    }

    public Manifest {
        specialTokens = Map.copyOf(specialTokens);
        inputs = List.copyOf(inputs);
        shards = List.copyOf(shards);
        preprocessRuns = preprocessRuns == null ? List.of() : List.copyOf(preprocessRuns); // absent in older manifests
        lineage = lineage == null || lineage.isNull() ? null : lineage; // written as null when absent, read back as NullNode
    }

    /** A manifest without lineage. */
    public Manifest(int formatVersion, String tokenizer, String tokenizerSha256, int vocabSize, int contextLength,
                    Map<String, Integer> specialTokens, JsonNode config, List<InputFile> inputs, List<ShardInfo> shards,
                    List<PreprocessRun> preprocessRuns) {
        this(formatVersion, tokenizer, tokenizerSha256, vocabSize, contextLength, specialTokens, config, inputs, shards,
                preprocessRuns, null);
    }

    /** A manifest that records no preprocess runs (tokenized from a plain folder of Parquet files). */
    public Manifest(int formatVersion, String tokenizer, String tokenizerSha256, int vocabSize, int contextLength,
                    Map<String, Integer> specialTokens, JsonNode config, List<InputFile> inputs, List<ShardInfo> shards) {
        this(formatVersion, tokenizer, tokenizerSha256, vocabSize, contextLength, specialTokens, config, inputs, shards, List.of());
    }

    public List<ShardInfo> shards(String split) {
        return shards.stream().filter(s -> s.split().equals(split)).toList();
    }

    /** Absolute paths of one split's shards, for {@code dev.kiln.train.data.TokenBatches}. */
    public List<Path> shardPaths(Path manifestDir, String split) {
        return shards(split).stream().map(s -> new Path(manifestDir, s.path())).toList();
    }

    public long tokens(String split) {
        return shards(split).stream().mapToLong(ShardInfo::tokens).sum();
    }

    public long rows(String split) {
        return shards(split).stream().mapToLong(ShardInfo::rows).sum();
    }

    /** A copy with more inputs, shards and preprocess runs appended. */
    public Manifest append(List<InputFile> moreInputs, List<ShardInfo> moreShards, List<PreprocessRun> moreRuns) {
        List<InputFile> in = new ArrayList<>(inputs);
        in.addAll(moreInputs);
        List<ShardInfo> sh = new ArrayList<>(shards);
        sh.addAll(moreShards);
        List<PreprocessRun> runs = new ArrayList<>(preprocessRuns);
        runs.addAll(moreRuns);
        // The shards appended now are written in the current format; each shard declares its own version, so a
        // folder can hold format 1 shards of older runs next to them. The manifest names the newest.
        int version = moreShards.isEmpty() ? formatVersion : Math.max(formatVersion, Integer.parseInt(ShardSchema.FORMAT_VERSION));
        return new Manifest(version, tokenizer, tokenizerSha256, vocabSize, contextLength, specialTokens, config, in, sh, runs,
                lineage);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot render the manifest as JSON", e);
        }
    }

    public static Manifest fromJson(String json, String where) {
        try {
            Manifest m = JSON.readValue(json, Manifest.class);
            if (m.formatVersion() != Integer.parseInt(ShardSchema.FORMAT_VERSION) && m.formatVersion() != Integer.parseInt(ShardSchema.FORMAT_VERSION_1)) {
                throw new IllegalStateException(where + ": shard format version " + m.formatVersion() + ", this Kiln reads "
                        + ShardSchema.FORMAT_VERSION_1 + " and " + ShardSchema.FORMAT_VERSION);
            }
            return m;
        } catch (IOException e) {
            throw new IllegalStateException(where + " is not a valid Kiln manifest: " + e.getMessage(), e);
        }
    }

    /** Writes {@code dir/manifest.json} atomically (staging file, then rename). */
    public void write(FileSystem fs, Path dir) throws IOException {
        AtomicOutput.writeString(fs, new Path(dir, FILE_NAME), toJson());
    }

    public static Manifest read(FileSystem fs, Path dir) throws IOException {
        return readIfExists(fs, dir).orElseThrow(() -> new MissingInputException(
                "no " + FILE_NAME + " in " + dir + ": run `kiln tokenize` first, or point at its output folder"));
    }

    public static Optional<Manifest> readIfExists(FileSystem fs, Path dir) throws IOException {
        Path file = new Path(dir, FILE_NAME);
        if (!fs.exists(file)) {
            return Optional.empty();
        }
        try (FSDataInputStream in = fs.open(file)) {
            return Optional.of(fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), file.toString()));
        }
    }

    /** Re-hashes every listed shard and throws naming the first whose size or SHA-256 differs from the manifest. */
    public void verify(FileSystem fs, Path dir) throws IOException {
        for (ShardInfo s : shards) {
            Path p = new Path(dir, s.path());
            if (!fs.exists(p)) {
                throw new IllegalStateException("manifest " + new Path(dir, FILE_NAME) + " lists " + s.path() + ", which does not exist");
            }
            String actual = FileHashes.sha256(fs, p);
            if (!actual.equals(s.sha256())) {
                throw new IllegalStateException("shard " + p + " has SHA-256 " + actual + ", the manifest says " + s.sha256());
            }
        }
    }
}
