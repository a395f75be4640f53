package dev.kiln.hf;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.io.FileHashes;
import dev.kiln.generate.GenerationCheckpoint;
import dev.kiln.model.GptModel;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A parent model for fine-tuning: a Kiln checkpoint ({@link GenerationCheckpoint#open}) or a Hugging Face GPT-2
 * folder ({@link HfImport}), recognised by its config.json without a state.json. An imported parent is at step 0, its
 * tokenizer is the folder's tokenizer.json, and {@link GenerationCheckpoint#modelSha256()} is its model.safetensors'.
 */
public final class HfParent {
    private HfParent() {
    }

    /** As {@link GenerationCheckpoint#open(String, String, String, String, Configuration)}, also for Hugging Face folders. */
    public static GenerationCheckpoint open(String checkpoint, String tokenizer, String endOfText, String section,
                                            Configuration hadoop) throws IOException {
        Path folder = new Path(checkpoint);
        FileSystem fs = folder.getFileSystem(hadoop);
        if (!fs.exists(folder) || !HfImport.isHuggingFaceFolder(fs, folder)) {
            return GenerationCheckpoint.open(checkpoint, tokenizer, endOfText, section, hadoop);
        }
        String key = section + ".checkpoint";
        HfImport.HfModel m = HfImport.read(fs, folder, key);
        String tokenizerPath = new Path(folder, HfExport.TOKENIZER).toString();
        if (tokenizer != null) { // another tokenizer.json is allowed only when it is the same file
            Path given = new Path(tokenizer);
            String json;
            try (FSDataInputStream in = given.getFileSystem(hadoop).open(given)) {
                json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!FileHashes.sha256(json).equals(FileHashes.sha256(m.tokenizerJson()))) {
                throw new InvalidConfigException(section + ".tokenizer", tokenizer, "differs from the Hugging Face parent's "
                        + tokenizerPath + " (the model's ids are that tokenizer's)");
            }
        }
        int eot = -1;
        if (endOfText != null) {
            try {
                eot = m.tokenizer().specialTokenId(endOfText);
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigException(section + ".end-of-text", tokenizerPath, e.getMessage());
            }
        }
        ComputationGraph model = GptModel.build(m.shape(), new NoOp(), 0, 0, DataType.FLOAT);
        HfImport.assign(m, model);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(model, bytes, false);
        return new GenerationCheckpoint(m.folder(), 0, bytes.toByteArray(), m.tokenizerJson(), tokenizerPath, eot,
                m.shape().contextLength(), m.shape().vocabSize(), m.weightsSha256());
    }
}
