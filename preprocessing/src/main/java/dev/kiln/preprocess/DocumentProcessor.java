package dev.kiln.preprocess;

import dev.kiln.preprocess.clean.CleanConfig;
import dev.kiln.preprocess.clean.TextCleaner;
import dev.kiln.preprocess.dedup.TextHash;
import dev.kiln.preprocess.filter.FilterConfig;
import dev.kiln.preprocess.filter.QualityFilters;
import dev.kiln.preprocess.read.ReadRecord;

import java.io.Serializable;

/**
 * The per-document part of {@code kiln preprocess}: clean, filter, hash. Plain Java (Spark calls it from its tasks);
 * optionally measures the time spent in cleaning and in filtering.
 */
public final class DocumentProcessor implements Serializable {
    /** Removal reason of a document that cleaning left empty. */
    public static final String EMPTY_AFTER_CLEANING = "empty_after_cleaning";

    private final TextCleaner cleaner;
    private final QualityFilters filters;

    public DocumentProcessor(CleanConfig clean, FilterConfig filter) {
        this.cleaner = new TextCleaner(clean);
        this.filters = new QualityFilters(filter);
    }

    public QualityFilters filters() {
        return filters;
    }

    /** Receives nanoseconds spent per step (cleaning, filtering); may be a no-op. */
    public interface Timer {
        void add(String step, long nanos);
    }

    public Processed process(ReadRecord r) {
        return process(r, (s, n) -> { });
    }

    public Processed process(ReadRecord r, Timer timer) {
        if (!r.isDocument()) {
            return new Processed(null, null, null, 0, 0, r.quarantinePath(), r.reason());
        }
        Document doc = r.document();
        long bytesRead = Document.utf8Length(doc.text());
        long t0 = System.nanoTime();
        String text = cleaner.clean(doc.text());
        long t1 = System.nanoTime();
        timer.add("clean", t1 - t0);
        Document cleaned = doc.withText(text);
        long bytesCleaned = Document.utf8Length(text);
        if (text.isBlank()) {
            return new Processed(cleaned, null, EMPTY_AFTER_CLEANING, bytesRead, bytesCleaned, null, null);
        }
        String failure = filters.firstFailure(text);
        long t2 = System.nanoTime();
        timer.add("filter", t2 - t1);
        if (failure != null) {
            return new Processed(cleaned, null, failure, bytesRead, bytesCleaned, null, null);
        }
        return new Processed(cleaned, TextHash.of(text), null, bytesRead, bytesCleaned, null, null);
    }
}
