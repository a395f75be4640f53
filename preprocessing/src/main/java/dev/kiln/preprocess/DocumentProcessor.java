package dev.kiln.preprocess;

import dev.kiln.preprocess.clean.CleanConfig;
import dev.kiln.preprocess.clean.CleaningSteps;
import dev.kiln.preprocess.dedup.TextHash;
import dev.kiln.preprocess.doc.DocPipeline;
import dev.kiln.preprocess.doc.DocStep;
import dev.kiln.preprocess.doc.Document;
import dev.kiln.preprocess.filter.FilterConfig;
import dev.kiln.preprocess.filter.QualityFilters;
import dev.kiln.preprocess.lang.LanguageConfig;
import dev.kiln.preprocess.lang.LanguageStep;
import dev.kiln.preprocess.read.ReadRecord;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-document part of {@code kiln preprocess}: the {@link DocPipeline} of cleaning steps then quality filters
 * built from the config, and the exact-duplicate hash of what passes. Plain Java (Spark calls it from its tasks).
 */
public final class DocumentProcessor implements Serializable {
    private final DocPipeline pipeline;

    /** Cleaning and the quality filters, without language identification. */
    public DocumentProcessor(CleanConfig clean, FilterConfig filter) {
        this(clean, new LanguageConfig(false, 0), filter);
    }

    /** Cleaning, the language step (when enabled: it annotates, and drops languages not in filter.languages), the filters. */
    public DocumentProcessor(CleanConfig clean, LanguageConfig language, FilterConfig filter) {
        List<DocStep> steps = new ArrayList<>(CleaningSteps.from(clean));
        if (language.enabled()) {
            steps.add(new LanguageStep(language, filter.languages()));
        }
        steps.addAll(QualityFilters.from(filter));
        this.pipeline = DocPipeline.of(steps);
    }

    public DocPipeline pipeline() {
        return pipeline;
    }

    public Processed process(ReadRecord r) {
        return process(r, DocPipeline.StepTimer.NONE);
    }

    public Processed process(ReadRecord r, DocPipeline.StepTimer timer) {
        if (r instanceof ReadRecord.Quarantined q) {
            return new Processed.Quarantined(q.path(), q.reason());
        }
        Document doc = ((ReadRecord.Read) r).document();
        long bytesRead = Document.utf8Length(doc.text());
        DocPipeline.Outcome outcome = pipeline.run(doc, timer);
        Document last = outcome.document();
        long bytesCleaned = Document.utf8Length(last.text());
        if (outcome instanceof DocPipeline.Outcome.Dropped d) {
            return new Processed.Dropped(last, d.step(), d.drop(), bytesRead, bytesCleaned);
        }
        return new Processed.Kept(last, TextHash.of(last.text()), bytesRead, bytesCleaned);
    }
}
