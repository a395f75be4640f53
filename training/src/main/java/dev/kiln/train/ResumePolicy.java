package dev.kiln.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.common.config.InvalidConfigException;

/**
 * {@code kiln.train.resume}: whether a run continues the checkpoints already in {@code kiln.train.output}.
 * <ul>
 *   <li>{@code never}: start at step 0; an output that holds checkpoints is an error (unless {@code --resume});</li>
 *   <li>{@code always} (what {@code --resume} means): continue from the newest checkpoint, or start when there is none;</li>
 *   <li>{@code auto}, for schedulers: start when the output holds no checkpoint, continue when its newest checkpoint
 *       is of the same run (model shape and tokenizer), refuse one of a different run with an error naming the key.</li>
 * </ul>
 * Pure: decides from the newest checkpoint's {@code state.json}, before any model is loaded.
 */
public final class ResumePolicy {
    public static final String KEY = TrainConfig.SECTION + ".resume";

    /** The three settings of {@code kiln.train.resume}. */
    public enum Mode { NEVER, ALWAYS, AUTO }

    private ResumePolicy() {
    }

    /**
     * Whether to resume. {@code checkpoint}: the newest checkpoint's name (null when the output has none),
     * {@code state}: its state.json; {@code tokenizerSha256}: the shards' tokenizer.
     */
    public static boolean resume(Mode mode, String checkpoint, JsonNode state, TrainConfig cfg, String tokenizerSha256) {
        if (mode != Mode.AUTO) {
            return mode == Mode.ALWAYS;
        }
        if (checkpoint == null) {
            return false;
        }
        String why = differentRun(state, cfg, tokenizerSha256);
        if (why != null) {
            String key = why.substring(0, why.indexOf(' '));
            throw new InvalidConfigException(key, null, "kiln.train.output " + cfg.output() + " holds checkpoint " + checkpoint
                    + " of a different run: " + why + ". With " + KEY + " = auto a different run is never continued: set "
                    + "kiln.train.output to a new folder, or " + key + " back to the checkpoint's value");
        }
        return true;
    }

    /** Null when the checkpoint is of the same run, else "KEY: checkpoint X, this run Y" for the first difference. */
    static String differentRun(JsonNode state, TrainConfig cfg, String tokenizerSha256) {
        JsonNode model = state.path("config").path("model");
        TrainConfig.ModelShape m = cfg.model();
        String[][] keys = {{"layers", "layers"}, {"d-model", "dModel"}, {"heads", "heads"}, {"mlp-ratio", "mlpRatio"}};
        int[] values = {m.layers(), m.dModel(), m.heads(), m.mlpRatio()};
        for (int i = 0; i < keys.length; i++) {
            // The stored config is either the rendered kiln.train section (d-model) or the record's JSON (dModel).
            JsonNode v = model.has(keys[i][0]) ? model.get(keys[i][0]) : model.get(keys[i][1]);
            if (v == null || v.asInt() != values[i]) {
                return TrainConfig.SECTION + ".model." + keys[i][0] + " is " + values[i] + " in this run, "
                        + (v == null ? "not recorded" : v.asText()) + " in the checkpoint";
            }
        }
        // Checkpoints from before tie-embeddings existed are untied.
        JsonNode tied = model.has("tie-embeddings") ? model.get("tie-embeddings") : model.get("tieEmbeddings");
        boolean theirTie = tied != null && tied.asBoolean();
        if (theirTie != m.tieEmbeddings()) {
            return TrainConfig.SECTION + ".model.tie-embeddings is " + m.tieEmbeddings() + " in this run, " + theirTie
                    + (tied == null ? " (not recorded: an earlier, untied model)" : "") + " in the checkpoint";
        }
        // Checkpoints from before head-bias existed: untied heads had a bias, tied ones none.
        JsonNode bias = model.has("head-bias") ? model.get("head-bias") : model.get("headBias");
        boolean theirBias = bias == null ? !theirTie : bias.asBoolean();
        if (theirBias != m.headBias()) {
            return TrainConfig.SECTION + ".model.head-bias is " + m.headBias() + " in this run, " + theirBias
                    + (bias == null ? " (not recorded: an earlier model, " + (theirTie ? "tied" : "untied") + ")" : "")
                    + " in the checkpoint";
        }
        String theirs = state.path("tokenizer_sha256").asText(null);
        if (tokenizerSha256 != null && theirs != null && !theirs.equals(tokenizerSha256)) {
            return TrainConfig.SECTION + ".shards come from tokenizer " + tokenizerSha256 + ", the checkpoint from tokenizer " + theirs;
        }
        return null;
    }
}
