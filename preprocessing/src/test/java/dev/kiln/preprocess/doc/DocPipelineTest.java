package dev.kiln.preprocess.doc;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A pipeline of literal steps on literal documents: order, the first drop ends a run, and the per-step counters. */
class DocPipelineTest {

    /** Upper-cases the text. */
    static final class Shout extends Cleaner {
        Shout() {
            super("shout");
        }

        @Override
        protected String clean(String text) {
            return text.toUpperCase(Locale.ROOT);
        }
    }

    /** Drops texts shorter than {@code min} characters. */
    static final class MinLength extends Filter {
        private final int min;

        MinLength(int min) {
            super("min_length");
            this.min = min;
        }

        @Override
        protected Optional<String> failure(Document doc) {
            return doc.text().length() < min ? Optional.of(doc.text().length() + " < " + min) : Optional.empty();
        }
    }

    /** Drops texts that contain {@code word} (case-sensitive, so it sees what the cleaners left). */
    static final class Without extends Filter {
        private final String word;

        Without(String word) {
            super("without_" + word.toLowerCase(Locale.ROOT));
            this.word = word;
        }

        @Override
        protected Optional<String> failure(Document doc) {
            return doc.text().contains(word) ? Optional.of("contains " + word) : Optional.empty();
        }
    }

    private final DocPipeline pipeline = DocPipeline.of(List.of(new Shout(), new MinLength(5), new Without("SPAM")));

    private static Document doc(String text) {
        return Document.of("file:/in/x.txt", text, text, Map.of("format", "text"));
    }

    @Test
    void aDocumentThatPassesCarriesTheCleanedTextAndItsOriginalId() {
        Document d = doc("hello world");
        DocPipeline.Outcome o = pipeline.run(d);
        DocPipeline.Outcome.Kept p = assertInstanceOf(DocPipeline.Outcome.Kept.class, o);
        assertEquals("HELLO WORLD", p.document().text());
        assertEquals(d.id(), p.document().id());
        assertEquals(d.metadata(), p.document().metadata());
    }

    @Test
    void theFirstDropEndsTheRunWithTheStepItsReasonAndDetail() {
        DocPipeline.Outcome.Dropped shortOne = assertInstanceOf(DocPipeline.Outcome.Dropped.class, pipeline.run(doc("spam")));
        assertEquals(1, shortOne.step(), "dropped by min_length before without_spam sees it");
        assertEquals(new Verdict.Drop("min_length", "min_length: 4 < 5"), shortOne.drop());
        assertEquals("SPAM", shortOne.document().text(), "the text the dropping step saw");

        DocPipeline.Outcome.Dropped spam = assertInstanceOf(DocPipeline.Outcome.Dropped.class, pipeline.run(doc("buy spam now")));
        assertEquals(2, spam.step());
        assertEquals("without_spam: contains SPAM", spam.drop().detail());
    }

    @Test
    void theTimerHearsOnceFromEveryStepThatRan() {
        List<Integer> steps = new ArrayList<>();
        pipeline.run(doc("spam"), (step, nanos) -> {
            assertTrue(nanos >= 0);
            steps.add(step);
        });
        assertEquals(List.of(0, 1), steps);
    }

    @Test
    void countersSayWhatEachStepKeptAndDroppedAndMergeAcrossPartitions() {
        List<String> texts = List.of("hello world", "spam", "buy spam now", "fine text", "no");
        PipelineCounts.Counter a = new PipelineCounts.Counter(3);
        PipelineCounts.Counter b = new PipelineCounts.Counter(3);
        for (int i = 0; i < texts.size(); i++) {
            Document d = doc(texts.get(i));
            DocPipeline.Outcome o = pipeline.run(d);
            PipelineCounts.Counter c = i % 2 == 0 ? a : b;
            DocTally one = DocTally.of(d.text().length(), o.document().text().length());
            if (o instanceof DocPipeline.Outcome.Dropped dropped) {
                c.dropped(dropped.step(), one);
            } else {
                c.passed(one);
            }
        }
        PipelineCounts counts = a.merge(b).counts(pipeline, new long[]{10, 20, 30});
        assertEquals(new DocTally(5, 38, 38), counts.entered());
        assertEquals(new DocTally(2, 20, 20), counts.passed(), "hello world and fine text");

        StepCounts shout = counts.steps().get(0);
        assertEquals("shout", shout.step());
        assertFalse(shout.canDrop());
        assertEquals(DocTally.ZERO, shout.dropped());
        assertEquals(counts.entered(), shout.kept());

        StepCounts minLength = counts.steps().get(1);
        assertTrue(minLength.canDrop());
        assertEquals(new DocTally(2, 6, 6), minLength.dropped(), "spam and no");
        assertEquals(new DocTally(3, 32, 32), minLength.kept());

        StepCounts spam = counts.steps().get(2);
        assertEquals(minLength.kept(), spam.in());
        assertEquals(new DocTally(1, 12, 12), spam.dropped());
        assertEquals(counts.passed(), spam.kept());

        assertEquals(10, counts.nanos(DocStep.Family.CLEAN));
        assertEquals(50, counts.nanos(DocStep.Family.FILTER));
        assertEquals(new DocTally(3, 18, 18), counts.dropped(DocStep.Family.FILTER));
        assertEquals(DocTally.ZERO, counts.dropped(DocStep.Family.CLEAN));
    }
}
