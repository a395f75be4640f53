package dev.kiln.metrics;

import java.io.Serializable;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * One classified document: its true label, the predicted label and the predicted probability of each class (the
 * JSONL a fine-tune writes: {@code {"id", "label", "predicted", "probabilities": {label: p}}}). The probabilities
 * may be empty when only hard predictions exist; ROC and PR curves then cannot be drawn.
 */
public record Prediction(String id, String label, String predicted, Map<String, Double> probabilities) implements Serializable {
    public Prediction {
        if (label == null || predicted == null) {
            throw new IllegalArgumentException("prediction " + id + ": label and predicted must be set, got label="
                    + label + ", predicted=" + predicted);
        }
        probabilities = Collections.unmodifiableSortedMap(new TreeMap<>(probabilities));
    }
}
