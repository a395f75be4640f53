package dev.kiln.preprocess.doc;

import java.io.Serializable;

/**
 * One piece of per-document work: a cleaner that rewrites the text, or a filter that keeps or drops the document.
 * Plain Java with no Spark types, so a step is tested on literal documents; {@link DocPipeline} runs a list of them.
 * Implement {@link Cleaner} or {@link Filter} rather than this interface: their base classes own the shared work.
 */
public interface DocStep extends Serializable {

    /** Which stage of stats.json a step's work is reported under. */
    enum Family { CLEAN, FILTER }

    /** The step's name; for a filter also the reason its drops are counted under. */
    String name();

    Family family();

    Verdict apply(Document doc);
}
