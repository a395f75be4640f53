package dev.kiln.finetune;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.train.checkpoint.CheckpointTokenizer;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import dev.kiln.train.checkpoint.ModelCheckpoints;
import org.apache.hadoop.conf.Configuration;

import java.io.IOException;

/**
 * The language model a fine-tune starts from ({@code kiln.finetune.checkpoint}: a Kiln checkpoint or a Hugging Face
 * GPT-2 folder) and the tokenizer of its ids ({@code kiln.finetune.tokenizer}, or the parent's own), both opened and
 * cross-checked by {@link ModelCheckpoints}.
 */
record ParentModel(ModelCheckpoint checkpoint, CheckpointTokenizer tokenizer) {
    static final String KEY = FinetuneConfig.SECTION + ".checkpoint";

    static ParentModel open(FinetuneConfig cfg, Configuration hadoop) throws IOException {
        ModelCheckpoint m = ModelCheckpoints.open(hadoop, cfg.checkpoint(), KEY).requireLanguageModel(KEY);
        return new ParentModel(m, ModelCheckpoints.tokenizer(hadoop, m, cfg.tokenizer(), FinetuneConfig.SECTION + ".tokenizer"));
    }

    String folder() {
        return checkpoint.folder();
    }

    /** The fine-tune's checkpoints record their parent under stage.parent, and the tokenizer's path. */
    void recordIn(ObjectNode stage) {
        ObjectNode p = stage.putObject("parent");
        p.put("path", checkpoint.folder());
        p.put("step", checkpoint.step());
        p.put("model_sha256", checkpoint.modelSha256());
        // imported: model_sha256 is of its model.safetensors
        p.put("format", checkpoint.imported() ? "huggingface" : "kiln");
        stage.put("tokenizer_path", tokenizer.path());
    }
}
