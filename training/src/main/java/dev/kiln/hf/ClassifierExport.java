package dev.kiln.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.model.ClassifierHead;
import dev.kiln.model.ClassifierModel;
import dev.kiln.model.Gpt2Layout;
import dev.kiln.model.GptConfig;
import dev.kiln.train.checkpoint.SafeTensors;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * A Kiln classifier ({@link ClassifierModel}, last-token pooling) as Hugging Face's
 * {@code GPT2ForSequenceClassification}: the transformer's tensors as for the LM, and {@code score.weight [K, C]}.
 * GPT-2's score layer has no bias, Kiln's head has one ({@code z = h W + b}); since nothing follows the final
 * LayerNorm but the head, the bias moves into {@code ln_f.bias}: with {@code δ [C]} solving {@code δ W = b}
 * (least norm, {@code δ = W (WᵀW)⁻¹ bᵀ}, exact when W's K columns are independent), {@code (h + δ) W = h W + b}.
 * Mean pooling has no Hugging Face equivalent and is refused by the caller.
 */
final class ClassifierExport {
    private ClassifierExport() {
    }

    static boolean isClassifier(ComputationGraph model) {
        return model.getConfiguration().getVertices().get(ClassifierModel.HEAD) instanceof LayerVertex v
                && v.getLayerConf().getLayer() instanceof ClassifierHead;
    }

    static ClassifierHead.Pooling pooling(ComputationGraph model) {
        LayerVertex v = (LayerVertex) model.getConfiguration().getVertices().get(ClassifierModel.HEAD);
        return ((ClassifierHead) v.getLayerConf().getLayer()).getPooling();
    }

    /** GPT-2's tensors with the head's bias folded into ln_f.bias, then score.weight. */
    static List<SafeTensors.Tensor> tensors(ComputationGraph model, GptConfig shape) {
        INDArray w = model.getLayer(ClassifierModel.HEAD).getParam("W").castTo(DataType.DOUBLE);      // [C, K]
        INDArray b = model.getLayer(ClassifierModel.HEAD).getParam("b").castTo(DataType.DOUBLE);      // [1, K]
        double[] shift = solveShift(w.toDoubleMatrix(), b.reshape(b.length()).toDoubleVector());       // [C]
        List<SafeTensors.Tensor> out = new ArrayList<>();
        for (SafeTensors.Tensor t : HfExport.tensors(model, shape)) {
            if (!t.name().equals(Gpt2Layout.PREFIX + "ln_f.bias")) {
                out.add(t);
                continue;
            }
            out.add(new SafeTensors.Tensor(t.name(), t.shape(), () -> {
                float[] beta = t.values().get();
                for (int i = 0; i < beta.length; i++) {
                    beta[i] = (float) (beta[i] + shift[i]);
                }
                return beta;
            }));
        }
        long k = w.size(1);
        out.add(new SafeTensors.Tensor("score.weight", new long[]{k, shape.dModel()},
                () -> model.getLayer(ClassifierModel.HEAD).getParam("W").transpose().castTo(DataType.FLOAT).dup('c')
                        .reshape(k * shape.dModel()).toFloatVector()));
        return out;
    }

    /** δ [C] with δ W = b (least norm), by the normal equations in double; fails when W's columns are dependent. */
    static double[] solveShift(double[][] w, double[] b) {
        int c = w.length, k = b.length;
        double[][] g = new double[k][k + 1];                                          // [WᵀW | b]
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                for (int r = 0; r < c; r++) {
                    g[i][j] += w[r][i] * w[r][j];
                }
            }
            g[i][k] = b[i];
        }
        for (int p = 0; p < k; p++) {                                                  // Gauss-Jordan, partial pivoting
            int best = p;
            for (int i = p + 1; i < k; i++) {
                best = Math.abs(g[i][p]) > Math.abs(g[best][p]) ? i : best;
            }
            double[] tmp = g[p];
            g[p] = g[best];
            g[best] = tmp;
            if (Math.abs(g[p][p]) < 1e-12) {
                throw new IllegalArgumentException("the classifier head's weight columns are linearly dependent: its bias "
                        + "cannot move into ln_f.bias exactly");
            }
            for (int i = 0; i < k; i++) {
                if (i != p) {
                    double f = g[i][p] / g[p][p];
                    for (int j = p; j <= k; j++) {
                        g[i][j] -= f * g[p][j];
                    }
                }
            }
        }
        double[] shift = new double[c];                                                // δ = W y, y = (WᵀW)⁻¹ b
        for (int j = 0; j < k; j++) {
            double y = g[j][k] / g[j][j];
            for (int r = 0; r < c; r++) {
                shift[r] += w[r][j] * y;
            }
        }
        return shift;
    }

    /** config.json of GPT2ForSequenceClassification: the LM's keys, the labels, and pad = end-of-text (last-token pooling). */
    static ObjectNode config(GptConfig shape, int endOfTextId, List<String> labels, JsonNode kiln) {
        ObjectNode c = HfExport.config(shape, endOfTextId, kiln);
        c.putArray("architectures").add("GPT2ForSequenceClassification");
        c.put("pad_token_id", endOfTextId);
        ObjectNode id2label = c.putObject("id2label");
        ObjectNode label2id = c.putObject("label2id");
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(String.valueOf(i), labels.get(i));
            label2id.put(labels.get(i), i);
        }
        return c;
    }
}
