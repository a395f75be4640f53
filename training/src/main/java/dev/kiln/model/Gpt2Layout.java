package dev.kiln.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Where each parameter of a tied Kiln GPT sits in Hugging Face's GPT-2 ({@code GPT2LMHeadModel}) and in which layout.
 * The math is the same: pre-LayerNorm blocks, learned positions, tanh GELU ({@code gelu_new}), LayerNorm eps 1e-5,
 * attention scaled by 1/sqrt(hs), logits {@code h wte^T} without bias. Layouts agree too: Kiln's matrices are
 * {@code [in, out]} like GPT-2's {@code Conv1D}; {@code c_attn}'s 3C columns are q | k | v, each C split into H heads
 * of hs consecutive columns, in both ({@link TransformerBlockLayer} reshapes {@code [N, 3C]} to {@code [N, 3, H, hs]});
 * Kiln's biases and gains are {@code [1, width]} where GPT-2 has {@code [width]} (same values in the same order).
 * The one transposition: Kiln adds positions to {@code [B, C, T]}, so its {@code wpe} is {@code [C, T]}, GPT-2's
 * {@code [T, C]}.
 */
public final class Gpt2Layout {
    /** Hugging Face's prefix of the transformer's tensors in {@code GPT2LMHeadModel} (absent in some older files). */
    public static final String PREFIX = "transformer.";

    /**
     * One tensor: Kiln's {@code layer} and {@code param}, GPT-2's {@code name} (without {@link #PREFIX}) and
     * {@code shape}; {@code transposed}: GPT-2's tensor is Kiln's 2-D parameter transposed.
     */
    public record Tensor(String layer, String param, String name, long[] shape, boolean transposed) {
    }

    private Gpt2Layout() {
    }

    /** Every tensor of GPT-2 for a model of {@code shape}, in GPT-2's order. */
    public static List<Tensor> tensors(GptConfig shape) {
        long v = shape.vocabSize(), t = shape.contextLength(), c = shape.dModel(), r = (long) shape.mlpRatio() * c;
        List<Tensor> out = new ArrayList<>();
        out.add(new Tensor(GptModel.TOKEN_EMBEDDING, TokenEmbedding.WEIGHTS, "wte.weight", new long[]{v, c}, false));
        out.add(new Tensor(GptModel.POSITION_EMBEDDING, PositionEmbedding.POSITIONS, "wpe.weight", new long[]{t, c}, true));
        for (int i = 0; i < shape.layers(); i++) {
            String b = GptModel.block(i), h = "h." + i + ".";
            out.add(new Tensor(b, TransformerBlock.LN1_GAIN, h + "ln_1.weight", new long[]{c}, false));
            out.add(new Tensor(b, TransformerBlock.LN1_BIAS, h + "ln_1.bias", new long[]{c}, false));
            out.add(new Tensor(b, TransformerBlock.QKV_WEIGHT, h + "attn.c_attn.weight", new long[]{c, 3 * c}, false));
            out.add(new Tensor(b, TransformerBlock.QKV_BIAS, h + "attn.c_attn.bias", new long[]{3 * c}, false));
            out.add(new Tensor(b, TransformerBlock.PROJ_WEIGHT, h + "attn.c_proj.weight", new long[]{c, c}, false));
            out.add(new Tensor(b, TransformerBlock.PROJ_BIAS, h + "attn.c_proj.bias", new long[]{c}, false));
            out.add(new Tensor(b, TransformerBlock.LN2_GAIN, h + "ln_2.weight", new long[]{c}, false));
            out.add(new Tensor(b, TransformerBlock.LN2_BIAS, h + "ln_2.bias", new long[]{c}, false));
            out.add(new Tensor(b, TransformerBlock.FC_WEIGHT, h + "mlp.c_fc.weight", new long[]{c, r}, false));
            out.add(new Tensor(b, TransformerBlock.FC_BIAS, h + "mlp.c_fc.bias", new long[]{r}, false));
            out.add(new Tensor(b, TransformerBlock.OUT_WEIGHT, h + "mlp.c_proj.weight", new long[]{r, c}, false));
            out.add(new Tensor(b, TransformerBlock.OUT_BIAS, h + "mlp.c_proj.bias", new long[]{c}, false));
        }
        out.add(new Tensor(GptModel.FINAL_NORM, FinalLayerNorm.GAIN, "ln_f.weight", new long[]{c}, false));
        out.add(new Tensor(GptModel.FINAL_NORM, FinalLayerNorm.BIAS, "ln_f.bias", new long[]{c}, false));
        return out;
    }
}
