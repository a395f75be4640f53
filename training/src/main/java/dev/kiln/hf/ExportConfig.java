package dev.kiln.hf;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;

/**
 * {@code kiln.export}: a language-model checkpoint to a Hugging Face GPT-2 folder.
 *
 * @param checkpoint a {@code step-NNNNNNNN} folder, a {@code checkpoints/} folder or a pretrain / causal fine-tune
 *                   output (its newest step); default {@code kiln.train.output}
 * @param tokenizer  a tokenizer.json, or null: the one the checkpoint's training shards were made with
 * @param endOfText  the special token that ends a document (GPT-2's {@code bos}/{@code eos} token)
 * @param output     the folder to write (replaced atomically)
 */
public record ExportConfig(String checkpoint, String tokenizer, String endOfText, String output) {
    public static final String SECTION = "kiln.export";

    public static ExportConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        String checkpoint = s.optionalString("checkpoint");
        if (checkpoint == null) {
            checkpoint = new Settings(config, "kiln.train").nonEmpty("output");
        }
        return new ExportConfig(checkpoint, s.optionalString("tokenizer"), s.nonEmpty("end-of-text"), s.nonEmpty("output"));
    }
}
