package dev.kiln.preprocess.doc;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Per-step counters of a {@link DocPipeline} over many documents: how many entered, what each step dropped, how many
 * passed every step. Collect with a {@link Counter} per partition, merge the counters, then {@link Counter#counts}.
 *
 * @param entered documents that entered the first step
 * @param steps   one entry per step, in pipeline order
 * @param passed  documents that every step kept
 */
public record PipelineCounts(DocTally entered, List<StepCounts> steps, DocTally passed) implements Serializable {

    public PipelineCounts {
        steps = List.copyOf(steps);
    }

    /** The documents the steps of {@code family} dropped, all together. */
    public DocTally dropped(DocStep.Family family) {
        return steps.stream().filter(s -> s.family() == family).map(StepCounts::dropped).reduce(DocTally.ZERO, DocTally::plus);
    }

    /** Nanoseconds the steps of {@code family} ran, summed over the tasks. */
    public long nanos(DocStep.Family family) {
        return steps.stream().filter(s -> s.family() == family).mapToLong(StepCounts::nanos).sum();
    }

    /**
     * Counts outcomes as they come, mutably (one per partition; Spark's aggregate lets a fold reuse its accumulator),
     * then merges with the other partitions' counters.
     */
    public static final class Counter implements Serializable {
        private final DocTally[] dropped;
        private DocTally passed = DocTally.ZERO;

        public Counter(int steps) {
            dropped = new DocTally[steps];
            Arrays.fill(dropped, DocTally.ZERO);
        }

        public Counter passed(DocTally doc) {
            passed = passed.plus(doc);
            return this;
        }

        public Counter dropped(int step, DocTally doc) {
            dropped[step] = dropped[step].plus(doc);
            return this;
        }

        public Counter merge(Counter o) {
            for (int i = 0; i < dropped.length; i++) {
                dropped[i] = dropped[i].plus(o.dropped[i]);
            }
            passed = passed.plus(o.passed);
            return this;
        }

        /** The counts for {@code pipeline}'s steps; {@code nanos[i]}: time step i ran (from the tasks' timers). */
        public PipelineCounts counts(DocPipeline pipeline, long[] nanos) {
            List<DocStep> steps = pipeline.steps();
            DocTally entered = passed;
            for (DocTally d : dropped) {
                entered = entered.plus(d);
            }
            List<StepCounts> out = new ArrayList<>(steps.size());
            DocTally in = entered;
            for (int i = 0; i < steps.size(); i++) {
                DocStep s = steps.get(i);
                out.add(new StepCounts(s.name(), s.family(), !(s instanceof Cleaner), in, dropped[i], nanos[i]));
                in = in.minus(dropped[i]);
            }
            return new PipelineCounts(entered, out, passed);
        }
    }
}
