package dev.kiln.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.AtomicOutput;
import dev.kiln.model.ClassifierHead;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.Gpt2Layout;
import dev.kiln.model.GptConfig;
import dev.kiln.model.GptModel;
import dev.kiln.train.checkpoint.CheckpointTokenizer;
import dev.kiln.train.checkpoint.HfImport;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.checkpoint.ModelCheckpoints;
import dev.kiln.train.checkpoint.SafeTensors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code kiln export}: a language-model checkpoint without a head bias (tied, or untied: {@code lm_head.weight} and
 * {@code tie_word_embeddings = false}) or a last-token classifier as a Hugging Face GPT-2 folder that
 * {@code AutoModelForCausalLM.from_pretrained(folder)} and {@code AutoTokenizer.from_pretrained(folder)} load with no
 * code: {@value #CONFIG}, {@value #WEIGHTS} (F32, GPT-2's names and layouts, see {@link Gpt2Layout}),
 * {@code tokenizer.json}, {@code tokenizer_config.json}, {@code special_tokens_map.json} and
 * {@code generation_config.json}. The folder is written beside the output and renamed onto it when complete.
 */
public final class HfExport {
    public static final String CONFIG = HfImport.CONFIG;
    public static final String WEIGHTS = HfImport.WEIGHTS;
    static final String TOKENIZER = HfImport.TOKENIZER;
    static final String LM_HEAD = HfImport.LM_HEAD;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String CHECKPOINT_KEY = ExportConfig.SECTION + ".checkpoint";

    private HfExport() {
    }

    /** What an export wrote. */
    public record Result(String folder, String checkpoint, long step, long parameters) {
    }

    /** The checkpoint (its model), its tokenizer and end-of-text id, checked for export. */
    record Source(ModelCheckpoint checkpoint, CheckpointTokenizer tokenizer, int endOfText) {
        ComputationGraph model() {
            return checkpoint.model();
        }
    }

    /** {@code --dry-run}: checks the checkpoint and tokenizer, says what would be written; writes nothing. */
    public static String plan(ExportConfig cfg, Configuration hadoop) throws IOException {
        Source s = open(cfg, hadoop);
        GptConfig shape = GptModel.shapeOf(s.model());
        return "would export " + s.checkpoint().folder() + " (step " + s.checkpoint().step() + ", " + s.model().numParams()
                + " parameters, " + shape + ") with tokenizer " + s.tokenizer().path() + " as a Hugging Face GPT-2 "
                + "folder " + cfg.output() + " (" + CONFIG + ", " + WEIGHTS + ", tokenizer files, generation_config.json)";
    }

    public static Result run(ExportConfig cfg, Configuration hadoop) throws IOException {
        Source s = open(cfg, hadoop);
        Path output = new Path(cfg.output());
        FileSystem fs = output.getFileSystem(hadoop);
        ModelCheckpoint c = s.checkpoint();
        ObjectNode kiln = JSON.createObjectNode();
        kiln.put("checkpoint", c.folder());
        kiln.put("step", c.step());
        kiln.put("tokenizer_sha256", s.tokenizer().sha256());
        kiln.put("kiln_version", Lineage.KILN_VERSION);
        GptConfig shape = GptModel.shapeOf(s.model());
        if (ClassifierExport.isClassifier(s.model())) {
            ObjectNode config = ClassifierExport.config(shape, s.endOfText(), labels(c), kiln);
            writeFolder(fs, output, ClassifierExport.tensors(s.model(), shape), config, shape, s.tokenizer().json(),
                    cfg.endOfText(), s.endOfText());
        } else {
            write(fs, output, s.model(), s.tokenizer().json(), cfg.endOfText(), s.endOfText(), kiln);
        }
        return new Result(fs.makeQualified(output).toString(), c.folder(), c.step(), s.model().numParams());
    }

    /** Reads the checkpoint and refuses what GPT-2 cannot hold exactly (a head bias, mean pooling), saying why. */
    static Source open(ExportConfig cfg, Configuration hadoop) throws IOException {
        ModelCheckpoint c = ModelCheckpoints.open(hadoop, cfg.checkpoint(), CHECKPOINT_KEY);
        CheckpointTokenizer tokenizer = ModelCheckpoints.tokenizer(hadoop, c, cfg.tokenizer(), ExportConfig.SECTION + ".tokenizer");
        int endOfText;
        try {
            endOfText = tokenizer.tokenizer().specialTokenId(cfg.endOfText());
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(ExportConfig.SECTION + ".end-of-text", null, tokenizer.path() + ": " + e.getMessage());
        }
        ComputationGraph model = c.model();
        if (ClassifierExport.isClassifier(model)) {
            if (ClassifierExport.pooling(model) != ClassifierHead.Pooling.LAST) {
                throw new InvalidConfigException(CHECKPOINT_KEY, c.folder(), "is a classifier with pooling = "
                        + ClassifierExport.pooling(model).name().toLowerCase() + ", which has no Hugging Face equivalent: "
                        + "GPT2ForSequenceClassification scores the last token only (pooling = last exports)");
            }
            return new Source(c, tokenizer, endOfText);
        }
        if (model.getVertex(GptModel.HEAD) == null) {
            throw new InvalidConfigException(CHECKPOINT_KEY, c.folder(), "is neither a Kiln language model nor a Kiln "
                    + "classifier (its graph has no " + GptModel.HEAD + " or " + ClassifierModel.HEAD + " layer)");
        }
        if (GptModel.shapeOf(model).headBias()) {
            throw new InvalidConfigException(CHECKPOINT_KEY, c.folder(), "has an LM head with a bias (trained with "
                    + "kiln.train.model.tie-embeddings = false and head-bias = true, or before head-bias existed): GPT-2's "
                    + "head (lm_head, tied or not) has no bias, so this model cannot be written as GPT-2 exactly. Train "
                    + "with head-bias = false (the default) to export");
        }
        return new Source(c, tokenizer, endOfText);
    }

    /**
     * Writes the folder for a language {@code model} without head bias: {@code endOfText}/{@code endOfTextId} become bos and eos,
     * {@code kiln} is the lineage stored under config.json's "kiln" key.
     */
    public static void write(FileSystem fs, Path output, ComputationGraph model, String tokenizerJson, String endOfText,
                             int endOfTextId, ObjectNode kiln) throws IOException {
        GptConfig shape = GptModel.shapeOf(model);
        writeFolder(fs, output, tensors(model, shape), config(shape, endOfTextId, kiln), shape, tokenizerJson, endOfText,
                endOfTextId);
    }

    /** The classifier's labels, in class order, from its checkpoint's state.json ("stage": {"labels": [...]}). */
    private static List<String> labels(ModelCheckpoint c) {
        List<String> labels = c.labels();
        if (labels.isEmpty()) {
            throw new InvalidConfigException(CHECKPOINT_KEY, c.folder(), "is a classifier whose state.json lists no stage.labels");
        }
        return labels;
    }

    private static void writeFolder(FileSystem fs, Path output, List<SafeTensors.Tensor> tensors, ObjectNode config,
                                    GptConfig shape, String tokenizerJson, String endOfText, int endOfTextId)
            throws IOException {
        Path staging = AtomicOutput.stagingFor(output);
        boolean done = false;
        try {
            fs.mkdirs(staging);
            try (OutputStream out = new BufferedOutputStream(fs.create(new Path(staging, WEIGHTS), false), 1 << 20)) {
                SafeTensors.write(out, tensors, Map.of("format", "pt"));
            }
            text(fs, new Path(staging, CONFIG), config);
            text(fs, new Path(staging, "generation_config.json"), JSON.createObjectNode()
                    .put("bos_token_id", endOfTextId).put("eos_token_id", endOfTextId));
            text(fs, new Path(staging, TOKENIZER), tokenizerJson);
            text(fs, new Path(staging, "tokenizer_config.json"), tokenizerConfig(shape, endOfText));
            text(fs, new Path(staging, "special_tokens_map.json"), JSON.createObjectNode()
                    .put("bos_token", endOfText).put("eos_token", endOfText).put("unk_token", endOfText));
            AtomicOutput.commit(fs, staging, output);
            done = true;
        } finally {
            if (!done) {
                fs.delete(staging, true);
            }
        }
    }

    /**
     * GPT-2's tensors from the graph, each made (as a float copy in GPT-2's layout) only when it is written; untied,
     * then {@value #LM_HEAD} {@code [V, C]} (nn.Linear's {@code [out, in]}: Kiln's head {@code W [C, V]} transposed).
     */
    static List<SafeTensors.Tensor> tensors(ComputationGraph model, GptConfig shape) {
        List<SafeTensors.Tensor> out = new ArrayList<>();
        for (Gpt2Layout.Tensor t : Gpt2Layout.tensors(shape)) {
            out.add(new SafeTensors.Tensor(Gpt2Layout.PREFIX + t.name(), t.shape(), () -> {
                INDArray p = model.getLayer(t.layer()).getParam(t.param());
                return floats(t.transposed() ? p.transpose() : p);
            }));
        }
        if (!shape.tiedEmbeddings()) {
            out.add(new SafeTensors.Tensor(LM_HEAD, new long[]{shape.vocabSize(), shape.dModel()},
                    () -> floats(model.getLayer(GptModel.HEAD).getParam("W").transpose())));
        }
        return out;
    }

    /** A c-order float copy of {@code laid}'s values. */
    private static float[] floats(INDArray laid) {
        return laid.castTo(DataType.FLOAT).dup('c').reshape(laid.length()).toFloatVector();
    }

    /** config.json: GPT-2's keys for this shape (dropout off: the weights were trained without it) and Kiln's lineage. */
    static ObjectNode config(GptConfig shape, int endOfTextId, JsonNode kiln) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("GPT2LMHeadModel");
        c.put("model_type", "gpt2");
        c.put("vocab_size", shape.vocabSize());
        c.put("n_positions", shape.contextLength());
        c.put("n_ctx", shape.contextLength());
        c.put("n_embd", shape.dModel());
        c.put("n_layer", shape.layers());
        c.put("n_head", shape.heads());
        c.put("n_inner", shape.mlpRatio() * shape.dModel());
        c.put("activation_function", "gelu_new");
        c.put("layer_norm_epsilon", 1e-5);
        c.put("initializer_range", 0.02);
        c.put("resid_pdrop", 0.0);
        c.put("embd_pdrop", 0.0);
        c.put("attn_pdrop", 0.0);
        c.put("scale_attn_weights", true);
        c.put("tie_word_embeddings", shape.tiedEmbeddings());
        c.put("use_cache", true);
        c.put("bos_token_id", endOfTextId);
        c.put("eos_token_id", endOfTextId);
        c.put("torch_dtype", "float32");
        c.set("kiln", kiln);
        return c;
    }

    private static ObjectNode tokenizerConfig(GptConfig shape, String endOfText) {
        ObjectNode t = JSON.createObjectNode();
        // The generic fast tokenizer: everything it needs is in tokenizer.json (Kiln's byte-level BPE).
        t.put("tokenizer_class", "PreTrainedTokenizerFast");
        t.put("model_max_length", shape.contextLength());
        t.put("bos_token", endOfText);
        t.put("eos_token", endOfText);
        t.put("unk_token", endOfText);
        t.put("add_prefix_space", false);
        t.put("clean_up_tokenization_spaces", false);
        // GPT-2 takes no token_type_ids (GPT2Model would add wte rows for them): the tokenizer must not return any.
        t.putArray("model_input_names").add("input_ids").add("attention_mask");
        return t;
    }

    private static void text(FileSystem fs, Path file, Object content) throws IOException {
        String s = content instanceof String str ? str : JSON.writeValueAsString(content) + "\n";
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(s.getBytes(StandardCharsets.UTF_8));
        }
    }
}
