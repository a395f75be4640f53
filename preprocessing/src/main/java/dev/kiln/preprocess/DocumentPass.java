package dev.kiln.preprocess;

import dev.kiln.common.io.BadInputException;
import dev.kiln.common.io.DroppedInputException;
import dev.kiln.common.io.HadoopConf;
import dev.kiln.common.log.Progress;
import dev.kiln.preprocess.PreprocessStats.Counts;
import dev.kiln.preprocess.PreprocessStats.Flow;
import dev.kiln.preprocess.doc.DocPipeline;
import dev.kiln.preprocess.doc.DocStep.Family;
import dev.kiln.preprocess.doc.DocTally;
import dev.kiln.preprocess.doc.PipelineCounts;
import dev.kiln.preprocess.doc.StepCounts;
import dev.kiln.preprocess.lang.LanguageStep;
import dev.kiln.preprocess.read.FileReaders;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.ReadRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The read, clean and filter pass of {@code kiln preprocess}: the Spark adapter of the {@link DocPipeline}. One
 * pass over the input: each task reads its files ({@link FileReaders}) and runs every record through the steps
 * ({@link DocumentProcessor}); the outcomes are persisted (dedup, the quarantine list and the removed samples read
 * them again). One action counts the outcomes per step; accumulators time the reading and each step.
 */
final class DocumentPass {
    private static final Logger LOG = LoggerFactory.getLogger(DocumentPass.class);

    /** The outcomes, the read, clean and filter stages of stats.json, and the documents every step kept. */
    record Result(JavaRDD<Processed> processed, PreprocessStats.ReadStage read, PreprocessStats.RemovalStage clean,
                  PreprocessStats.RemovalStage filter, Counts kept, SortedMap<String, Counts> languages) {
        /** The kept documents (lazily, from the persisted outcomes). */
        JavaRDD<Processed.Kept> keptDocuments() {
            return processed.filter(p -> p instanceof Processed.Kept).map(p -> (Processed.Kept) p);
        }
    }

    private DocumentPass() {
    }

    /**
     * Runs the pass over {@code tasks} (one Spark task per list of files) and fails when the quarantined share of
     * the records exceeds {@code kiln.preprocess.input.max-quarantined-fraction}.
     */
    static Result run(JavaSparkContext jsc, PreprocessConfig cfg, Configuration hconf, List<List<InputFile>> tasks,
                      int files, long inputBytes) {
        Progress pass = new Progress("preprocess: read, clean, filter", files, inputBytes);
        LongAccumulator readNanos = jsc.sc().longAccumulator("preprocess read ns");
        DocumentProcessor processor = new DocumentProcessor(cfg.clean(), cfg.language(), cfg.filter());
        DocPipeline docSteps = processor.pipeline();
        List<LongAccumulator> stepNanos = docSteps.steps().stream()
                .map(step -> jsc.sc().longAccumulator("preprocess " + step.name() + " ns")).toList();
        HadoopConf taskConf = new HadoopConf(hconf);
        PreprocessConfig c = cfg;
        JavaRDD<Processed> processed = jsc.parallelize(tasks, Math.max(1, tasks.size()))
                .flatMap(task -> new TimedRecords(task, c, taskConf.get(), readNanos))
                .map(r -> processor.process(r, (step, nanos) -> stepNanos.get(step).add(nanos)))
                .persist(StorageLevel.MEMORY_AND_DISK());
        PassCounter passCounts = processed.aggregate(new PassCounter(docSteps.steps().size()), PassCounter::add, PassCounter::merge);
        PipelineCounts stepCounts = passCounts.steps().counts(docSteps, stepNanos.stream().mapToLong(LongAccumulator::value).toArray());
        long quarantined = passCounts.quarantined();
        DocTally read = stepCounts.entered();
        DocTally kept = stepCounts.passed();
        DocTally cleaned = read.minus(stepCounts.dropped(Family.CLEAN));
        checkQuarantine(cfg, quarantined, read.documents(), processed);
        checkDropped(cfg, read.documents(), kept.documents(), stepCounts);
        pass.add(files, inputBytes);
        pass.done();
        double seconds = pass.elapsedSeconds();
        LOG.info("[preprocess] read {} documents ({}), {} quarantined, {} removed by cleaning, {} by filters, {} kept",
                read.documents(), Progress.human(read.bytesRead()), quarantined, read.documents() - cleaned.documents(),
                cleaned.documents() - kept.documents(), kept.documents());
        LOG.info("[preprocess] per step, documents dropped and task seconds: {}", stepCounts.steps().stream()
                .map(st -> String.format(Locale.ROOT, "%s %d %.2fs", st.step(), st.dropped().documents(), st.nanos() / 1e9))
                .collect(Collectors.joining(", ")));
        // Reading counts bytes as read; the cleaning stage turns them into cleaned bytes, which the filters then see.
        Counts readOut = new Counts(read.documents(), read.bytesRead());
        Counts cleanOut = new Counts(cleaned.documents(), cleaned.bytesCleaned());
        Counts keptOut = new Counts(kept.documents(), kept.bytesCleaned());
        return new Result(processed,
                new PreprocessStats.ReadStage(new Flow(new Counts(files, inputBytes), readOut), seconds, readNanos.value() / 1e9, quarantined),
                new PreprocessStats.RemovalStage(new Flow(readOut, cleanOut), seconds, stepCounts.nanos(Family.CLEAN) / 1e9,
                        removedBy(stepCounts, Family.CLEAN), steps(stepCounts, Family.CLEAN)),
                new PreprocessStats.RemovalStage(new Flow(cleanOut, keptOut), seconds, stepCounts.nanos(Family.FILTER) / 1e9,
                        removedBy(stepCounts, Family.FILTER), steps(stepCounts, Family.FILTER)),
                keptOut, passCounts.languages());
    }

    /**
     * The {@code removed} entry of a stage: per filter of {@code family}, in pipeline order and zeros included, the
     * documents it dropped with their bytes (as read for cleaning, whose drops have no cleaned text worth counting;
     * after cleaning for the quality filters).
     */
    private static Map<String, Counts> removedBy(PipelineCounts counts, Family family) {
        Map<String, Counts> removed = new LinkedHashMap<>();
        for (StepCounts step : counts.steps()) {
            if (step.family() == family && step.canDrop()) {
                removed.put(step.step(), droppedCounts(step));
            }
        }
        return removed;
    }

    /** What a stage's drops count as: bytes as read for cleaning, after cleaning for the quality filters (see removedBy). */
    private static Counts droppedCounts(StepCounts step) {
        DocTally d = step.dropped();
        return new Counts(d.documents(), step.family() == Family.CLEAN ? d.bytesRead() : d.bytesCleaned());
    }

    /** The {@code steps} entry of a stage: every step of {@code family} in pipeline order, cleaners included. */
    private static List<PreprocessStats.Step> steps(PipelineCounts counts, Family family) {
        return counts.steps().stream().filter(st -> st.family() == family)
                .map(st -> new PreprocessStats.Step(st.step(), st.in().documents(), st.kept().documents(),
                        st.canDrop() ? Map.of(st.step(), droppedCounts(st)) : Map.of(), st.nanos() / 1e9))
                .toList();
    }

    /**
     * Fails the run when the quarantined share of the records read exceeds
     * {@code kiln.preprocess.input.max-quarantined-fraction}, naming a few of them (their list is not written: the
     * run stops before writing anything).
     */
    private static void checkQuarantine(PreprocessConfig cfg, long quarantined, long documents, JavaRDD<Processed> processed) {
        double limit = cfg.input().maxQuarantinedFraction();
        if (!QuarantineBudget.exceeded(quarantined, documents, limit)) {
            return;
        }
        List<String> examples = processed.filter(p -> p instanceof Processed.Quarantined).map(p -> (Processed.Quarantined) p)
                .map(q -> q.path() + ": " + q.reason()).take(5);
        throw new BadInputException(QuarantineBudget.message(quarantined, documents, limit, examples));
    }

    /**
     * Fails the run when cleaning and the filters removed every document read, or more than
     * {@code kiln.preprocess.filter.max-dropped-fraction} of them; the message and the log list the top reasons.
     */
    private static void checkDropped(PreprocessConfig cfg, long read, long kept, PipelineCounts counts) {
        if (!DropBudget.exceeded(read - kept, read, cfg.filter().maxDroppedFraction())) {
            return;
        }
        Map<String, Long> byReason = new LinkedHashMap<>();
        for (StepCounts step : counts.steps()) {
            if (step.canDrop()) {
                byReason.put(step.step(), step.dropped().documents());
            }
        }
        String message = DropBudget.message(read - kept, read, cfg.filter().maxDroppedFraction(), byReason);
        LOG.error("[preprocess] {}", message);
        throw new DroppedInputException(message);
    }

    /** Quarantined records and the per-step counters of one partition's outcomes; merged across partitions. */
    private static final class PassCounter implements Serializable {
        private long quarantined;
        private final PipelineCounts.Counter steps;
        /** Kept documents and their cleaned bytes per language (metadata language; absent when identification is off). */
        private final TreeMap<String, Counts> languages = new TreeMap<>();

        PassCounter(int stepCount) {
            steps = new PipelineCounts.Counter(stepCount);
        }

        PassCounter add(Processed p) {
            if (p instanceof Processed.Kept k) {
                steps.passed(DocTally.of(k.bytesRead(), k.bytesCleaned()));
                String language = k.document().metadata().get(LanguageStep.LANGUAGE);
                if (language != null) {
                    languages.merge(language, new Counts(1, k.bytesCleaned()), Counts::plus);
                }
            } else if (p instanceof Processed.Dropped r) {
                steps.dropped(r.step(), DocTally.of(r.bytesRead(), r.bytesCleaned()));
            } else {
                quarantined++;
            }
            return this;
        }

        PassCounter merge(PassCounter o) {
            quarantined += o.quarantined;
            steps.merge(o.steps);
            o.languages.forEach((l, c) -> languages.merge(l, c, Counts::plus));
            return this;
        }

        long quarantined() {
            return quarantined;
        }

        SortedMap<String, Counts> languages() {
            return languages;
        }

        PipelineCounts.Counter steps() {
            return steps;
        }
    }

    /** The records of a task's files, file after file, timing the reading into an accumulator. */
    private static final class TimedRecords implements Iterator<ReadRecord> {
        private final Iterator<InputFile> files;
        private final PreprocessConfig cfg;
        private final Configuration conf;
        private final LongAccumulator nanos;
        private Iterator<ReadRecord> current = Collections.emptyIterator();

        TimedRecords(List<InputFile> files, PreprocessConfig cfg, Configuration conf, LongAccumulator nanos) {
            this.files = files.iterator();
            this.cfg = cfg;
            this.conf = conf;
            this.nanos = nanos;
        }

        @Override
        public boolean hasNext() {
            long t = System.nanoTime();
            try {
                while (!current.hasNext() && files.hasNext()) {
                    current = FileReaders.read(files.next(), cfg.input(), conf);
                }
                return current.hasNext();
            } finally {
                nanos.add(System.nanoTime() - t);
            }
        }

        @Override
        public ReadRecord next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current.next();
        }
    }
}
