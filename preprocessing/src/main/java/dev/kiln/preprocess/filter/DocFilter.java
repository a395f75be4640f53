package dev.kiln.preprocess.filter;

import java.io.Serializable;

/** One quality check: its name (the removal reason in stats.json) and whether a document passes. */
public interface DocFilter extends Serializable {
    String name();

    boolean keep(TextProfile doc);
}
