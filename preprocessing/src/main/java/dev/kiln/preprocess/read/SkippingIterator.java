package dev.kiln.preprocess.read;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * An iterator over a source that yields some steps with no element (a blank line, a quarantined record):
 * subclasses implement {@link #advance()}, returning null to skip, and call {@link #finish()} at the end.
 */
abstract class SkippingIterator<T> implements Iterator<T> {
    private T next;
    private boolean done;

    /** The next element, or null when this step yields none (call {@link #finish()} when there is nothing more). */
    protected abstract T advance();

    /** Marks the end of the source: {@link #advance()} is not called again. */
    protected final void finish() {
        done = true;
    }

    @Override
    public final boolean hasNext() {
        while (next == null && !done) {
            next = advance();
        }
        return next != null;
    }

    @Override
    public final T next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        T r = next;
        next = null;
        return r;
    }
}
