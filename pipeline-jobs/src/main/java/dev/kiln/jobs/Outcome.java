package dev.kiln.jobs;

import java.util.Map;

/**
 * What a stage's body reports back to {@link JobRunner} for {@code status.json}: the run it committed (0: none),
 * whether there was nothing new, and its counts.
 */
public record Outcome(int run, boolean upToDate, Map<String, Long> counts) {
    public Outcome {
        counts = Map.copyOf(counts);
    }

    public static Outcome none() {
        return new Outcome(0, false, Map.of());
    }
}
