package dev.kiln.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.model.Gpt2Layout;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.TokenizerJson;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Hugging Face GPT-2-family folder ({@code config.json}, {@code model.safetensors}, {@code tokenizer.json}) as a
 * Kiln model. Tied ({@code tie_word_embeddings}, true unless set) it becomes a tied Kiln GPT; untied, an
 * untied Kiln GPT without head bias whose head is {@code W = lm_head^T} (the same parameters, exactly). Every check
 * names the file and the key; {@code key} is the config key that named the folder.
 */
public final class HfImport {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The untied head's tensor in {@code GPT2LMHeadModel} ({@code [V, C]}, nn.Linear's {@code [out, in]}; tied models do not store it). */
    public static final String LM_HEAD = "lm_head.weight";
    /** The files of a Hugging Face model folder that Kiln reads and writes. */
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String TOKENIZER = "tokenizer.json";

    private HfImport() {
    }

    /**
     * What was read: the shape (context = {@code n_positions}), GPT-2's tensors by name (without "transformer."), the
     * untied head {@code [V, C]} or null, and the lineage (folder, SHA-256 of the weights file).
     */
    public record HfModel(GptConfig shape, Map<String, float[]> tensors, float[] lmHead, String folder,
                          String weightsSha256, String tokenizerJson, BpeTokenizer tokenizer) {
    }

    /** Whether {@code folder} looks like a Hugging Face model folder (it has a config.json and no Kiln state.json). */
    public static boolean isHuggingFaceFolder(FileSystem fs, Path folder) throws IOException {
        return fs.exists(new Path(folder, CONFIG)) && !fs.exists(new Path(folder, "state.json"));
    }

    public static HfModel read(FileSystem fs, Path folder, String key) throws IOException {
        Path weights = new Path(folder, WEIGHTS);
        if (!fs.exists(weights)) {
            String why = fs.exists(new Path(folder, "model.safetensors.index.json"))
                    ? "holds a sharded model (model.safetensors.index.json): Kiln reads one model.safetensors; save it "
                    + "unsharded with save_pretrained(folder, max_shard_size=\"100GB\")"
                    : fs.exists(new Path(folder, "pytorch_model.bin"))
                    ? "holds only pytorch_model.bin (a pickle Kiln does not read): save it as safetensors with "
                    + "save_pretrained(folder, safe_serialization=True)"
                    : "has no " + WEIGHTS;
            throw new InvalidConfigException(key, folder.toString(), why);
        }
        Path configFile = new Path(folder, CONFIG);
        JsonNode config;
        try (FSDataInputStream in = fs.open(configFile)) {
            config = JSON.readTree(in);
        }
        GptConfig shape = shape(config, configFile, key);
        Map<String, float[]> tensors = new LinkedHashMap<>();
        try (SafeTensors.Reader r = new SafeTensors.Reader(fs.open(weights), weights.toString())) {
            for (Map.Entry<String, float[]> e : r.readAll().entrySet()) {
                String name = e.getKey().startsWith(Gpt2Layout.PREFIX) ? e.getKey().substring(Gpt2Layout.PREFIX.length()) : e.getKey();
                tensors.put(name, e.getValue());
            }
            checkShapes(r.entries(), shape, weights, key);
        }
        // As transformers reads it: tie_word_embeddings (GPT-2's default true) decides; tied, a stored lm_head is
        // replaced by wte on load, so it is not read here either.
        boolean tied = config.path("tie_word_embeddings").asBoolean(true);
        float[] head = tensors.remove(LM_HEAD);
        if (tied) {
            head = null;
        } else if (head == null) {
            throw new InvalidConfigException(key, folder.toString(), configFile + " says tie_word_embeddings = false but "
                    + weights + " has no " + LM_HEAD);
        }
        Path tokenizerFile = new Path(folder, TOKENIZER);
        if (!fs.exists(tokenizerFile)) {
            throw new InvalidConfigException(key, folder.toString(), "has no " + TOKENIZER
                    + " (Kiln needs the model's byte-level BPE tokenizer as a tokenizer.json)");
        }
        String tokenizerJson;
        try (FSDataInputStream in = fs.open(tokenizerFile)) {
            tokenizerJson = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        BpeTokenizer tok;
        try {
            tok = TokenizerJson.read(tokenizerJson, tokenizerFile.toString());
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(key, folder.toString(), e.getMessage());
        }
        if (tok.vocabSize() != shape.vocabSize()) {
            throw new InvalidConfigException(key, folder.toString(), tokenizerFile + " has " + tok.vocabSize() + " tokens, "
                    + configFile + " vocab_size is " + shape.vocabSize());
        }
        return new HfModel(head == null ? shape : shape.withHead(false, false), tensors, head,
                fs.makeQualified(folder).toString(), FileHashes.sha256(fs, weights), tokenizerJson, tok);
    }

    /** GPT-2's config.json as a Kiln shape (tied), refusing what Kiln's blocks do not compute. */
    static GptConfig shape(JsonNode c, Path file, String key) {
        require(c, "model_type", "gpt2".equals(c.path("model_type").asText()), "must be gpt2", file, key);
        String act = c.path("activation_function").asText("gelu_new");
        require(c, "activation_function", act.equals("gelu_new") || act.equals("gelu_pytorch_tanh"),
                "must be the tanh GELU (gelu_new or gelu_pytorch_tanh), Kiln's", file, key);
        require(c, "layer_norm_epsilon", Math.abs(c.path("layer_norm_epsilon").asDouble(1e-5) - 1e-5) < 1e-12,
                "must be 1e-5, Kiln's", file, key);
        require(c, "scale_attn_weights", c.path("scale_attn_weights").asBoolean(true), "must be true", file, key);
        require(c, "scale_attn_by_inverse_layer_idx", !c.path("scale_attn_by_inverse_layer_idx").asBoolean(false),
                "must be false", file, key);
        for (String k : new String[]{"vocab_size", "n_positions", "n_embd", "n_layer", "n_head"}) {
            require(c, k, c.path(k).canConvertToInt() && c.path(k).asInt() > 0, "must be a positive integer", file, key);
        }
        int d = c.get("n_embd").asInt();
        int inner = c.path("n_inner").isNull() || c.path("n_inner").isMissingNode() ? 4 * d : c.path("n_inner").asInt();
        require(c, "n_inner", inner % d == 0, "must be a multiple of n_embd (" + d + ")", file, key);
        require(c, "n_head", d % c.get("n_head").asInt() == 0, "must divide n_embd (" + d + ")", file, key);
        return new GptConfig(c.get("vocab_size").asInt(), c.get("n_positions").asInt(), d, c.get("n_layer").asInt(),
                c.get("n_head").asInt(), inner / d, true);
    }

    private static void require(JsonNode c, String k, boolean ok, String what, Path file, String key) {
        if (!ok) {
            throw new InvalidConfigException(key, file.toString(), "key " + k + " " + what + ", found " + c.path(k));
        }
    }

    /** Every tensor GPT-2 has for the shape, of its shape; an untied head [V, C]. Extra buffers (attn.bias) are ignored. */
    private static void checkShapes(Map<String, SafeTensors.Entry> entries, GptConfig shape, Path file, String key) {
        Map<String, long[]> found = new LinkedHashMap<>();
        entries.forEach((n, e) -> found.put(n.startsWith(Gpt2Layout.PREFIX) ? n.substring(Gpt2Layout.PREFIX.length()) : n, e.shape()));
        for (Gpt2Layout.Tensor t : Gpt2Layout.tensors(shape)) {
            long[] s = found.get(t.name());
            if (s == null) {
                throw new InvalidConfigException(key, file.toString(), "has no tensor " + t.name() + " (nor " + Gpt2Layout.PREFIX
                        + t.name() + ") of shape " + Arrays.toString(t.shape()));
            }
            if (!Arrays.equals(s, t.shape())) {
                throw new InvalidConfigException(key, file.toString(), "tensor " + t.name() + " has shape " + Arrays.toString(s)
                        + ", config.json implies " + Arrays.toString(t.shape()));
            }
        }
        long[] head = found.get(LM_HEAD);
        if (head != null && !Arrays.equals(head, new long[]{shape.vocabSize(), shape.dModel()})) {
            throw new InvalidConfigException(key, file.toString(), "tensor " + LM_HEAD + " has shape " + Arrays.toString(head)
                    + ", expected [" + shape.vocabSize() + ", " + shape.dModel() + "]");
        }
    }

    /**
     * Writes the imported weights into {@code graph}, a Kiln GPT of the same shape except that its context may be
     * shorter than {@code n_positions} (the first T rows of wpe are used) and of the same tying.
     */
    public static void assign(HfModel m, ComputationGraph graph) {
        GptConfig target = GptModel.shapeOf(graph);
        GptConfig source = m.shape();
        if (target.contextLength() > source.contextLength()
                || !target.equals(new GptConfig(source.vocabSize(), target.contextLength(), source.dModel(), source.layers(),
                source.heads(), source.mlpRatio(), source.tiedEmbeddings(), source.headBias()))) {
            throw new IllegalArgumentException("the imported model " + m.folder() + " is " + source + "; the graph is " + target);
        }
        for (Gpt2Layout.Tensor t : Gpt2Layout.tensors(target)) {
            INDArray p = graph.getLayer(t.layer()).getParam(t.param());
            float[] values = m.tensors().get(t.name());
            if (t.transposed()) { // wpe [n_positions, C]: its first T rows, as Kiln's [C, T]
                INDArray all = Nd4j.create(values, new long[]{source.contextLength(), source.dModel()}, 'c');
                p.assign(all.get(NDArrayIndex.interval(0, target.contextLength()), NDArrayIndex.all()).transpose());
            } else {
                p.assign(Nd4j.create(values, p.shape(), 'c'));
            }
        }
        if (m.lmHead() != null) {
            INDArray w = graph.getLayer(GptModel.HEAD).getParam("W");                       // [C, V]
            w.assign(Nd4j.create(m.lmHead(), new long[]{source.vocabSize(), source.dModel()}, 'c').transpose());
        }
    }
}
