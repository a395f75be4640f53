package dev.kiln.preprocess.doc;

import java.io.Serializable;
import java.util.List;

/**
 * A list of {@link DocStep}s applied in order to one document at a time; the first step that drops the document ends
 * its run. Plain Java: a Spark task calls {@link #run} per record, a unit test calls it on literal documents.
 */
public final class DocPipeline implements Serializable {
    private final List<DocStep> steps;

    private DocPipeline(List<DocStep> steps) {
        this.steps = List.copyOf(steps);
    }

    public static DocPipeline of(List<? extends DocStep> steps) {
        return new DocPipeline(List.copyOf(steps));
    }

    /** The steps in the order they run; an index into this list identifies a step in {@link Outcome.Dropped} and counters. */
    public List<DocStep> steps() {
        return steps;
    }

    /** Receives the nanoseconds step number {@code step} spent on one document. */
    @FunctionalInterface
    public interface StepTimer {
        StepTimer NONE = (step, nanos) -> { };

        void add(int step, long nanos);
    }

    /** Where one document's run ended. */
    public sealed interface Outcome {
        /** The document as the last step left it. */
        Document document();

        /** Every step kept the document. */
        record Kept(Document document) implements Outcome {
        }

        /** Step number {@code step} dropped the document; {@code document} is the text that step saw. */
        record Dropped(Document document, int step, Verdict.Drop drop) implements Outcome {
        }
    }

    public Outcome run(Document doc) {
        return run(doc, StepTimer.NONE);
    }

    public Outcome run(Document doc, StepTimer timer) {
        Document current = doc;
        long start = System.nanoTime();
        for (int i = 0; i < steps.size(); i++) {
            Verdict v = steps.get(i).apply(current);
            long end = System.nanoTime();
            timer.add(i, end - start);
            start = end;
            if (v instanceof Verdict.Drop d) {
                return new Outcome.Dropped(current, i, d);
            }
            current = ((Verdict.Keep) v).document();
        }
        return new Outcome.Kept(current);
    }

    @Override
    public String toString() {
        return "DocPipeline" + steps;
    }
}
