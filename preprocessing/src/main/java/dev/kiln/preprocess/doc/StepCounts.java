package dev.kiln.preprocess.doc;

import java.io.Serializable;

/**
 * What one step of a {@link DocPipeline} did: the documents that reached it, those it dropped (under its name, the
 * reason of every drop it makes) and the nanoseconds it ran, summed over the tasks.
 *
 * @param canDrop whether the step can drop (a {@link Filter} or the language step; a {@link Cleaner} never drops; stats.json lists only filters'
 *                counts, zeros included)
 */
public record StepCounts(String step, DocStep.Family family, boolean canDrop, DocTally in, DocTally dropped, long nanos)
        implements Serializable {

    public DocTally kept() {
        return in.minus(dropped);
    }
}
