package dev.kiln.preprocess;

import dev.kiln.preprocess.PreprocessStats.Counts;
import dev.kiln.preprocess.PreprocessStats.Flow;
import dev.kiln.preprocess.dedup.ClusterSizes;
import dev.kiln.testing.PreprocessRuns;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** stats.json rendered from the stats records: its keys in their order, values that add, cluster-size buckets. */
class PreprocessStatsTest {
    private static final Counts TEN = new Counts(10, 1000);
    private static final Counts EIGHT = new Counts(8, 800);

    private static PreprocessStats.Written written(boolean near) {
        PreprocessConfig cfg = PreprocessRuns.config("input.paths", "in/*.txt", "output.path", "out");
        Map<String, Counts> none = Map.of();
        return new PreprocessStats.Written("3.5.1", "file:/out", 2,
                new PreprocessStats.Input(List.of("in/*.txt"), 3, 5000, 1),
                new PreprocessStats.ReadStage(new Flow(new Counts(3, 5000), TEN), 1.23456, 0.5, 1),
                new PreprocessStats.RemovalStage(new Flow(TEN, TEN), 1.23456, 0.1, Map.of("empty_after_cleaning", Counts.ZERO),
                        List.of(new PreprocessStats.Step("unicode_nfkc", 10, 10, none, 0.04),
                                new PreprocessStats.Step("empty_after_cleaning", 10, 10, Map.of("empty_after_cleaning", Counts.ZERO), 0.06))),
                new PreprocessStats.RemovalStage(new Flow(TEN, EIGHT), 1.23456, 0.2, Map.of("gopher_short_doc", new Counts(2, 200)),
                        List.of(new PreprocessStats.Step("gopher_short_doc", 10, 8, Map.of("gopher_short_doc", new Counts(2, 200)), 0.2))),
                new PreprocessStats.ExactStage(new Flow(EIGHT, EIGHT), 0.5, none, true, ClusterSizes.NONE),
                new PreprocessStats.NearStage(new Flow(EIGHT, EIGHT), 0.5, none, near, cfg.minhash(),
                        near ? Optional.of(new PreprocessStats.NearFindings(5, 4, 0, 2, 0, 0, ClusterSizes.NONE)) : Optional.empty()),
                new PreprocessStats.WriteStage(EIGHT, 0.25, 1, PreprocessConfig.Keep.REPRESENTATIVES, Map.of()),
                ClusterSizes.NONE, new PreprocessStats.Index(2, 10), 4.0, 2);
    }

    @Test
    void keysComeInStatsJsonOrder() {
        Map<String, Object> m = written(true).toMap();
        assertEquals(List.of("job", "spark_version", "output", "run", "input", "duplicate_clusters", "stages", "index", "seconds",
                "input_mb_per_second", "cores"), List.copyOf(m.keySet()));
        @SuppressWarnings("unchecked") Map<String, Object> stages = (Map<String, Object>) m.get("stages");
        assertEquals(List.of("read", "clean", "filter", "exact_dedup", "near_dedup", "write"), List.copyOf(stages.keySet()));
        @SuppressWarnings("unchecked") Map<String, Object> read = (Map<String, Object>) stages.get("read");
        assertEquals(List.of("documents_in", "bytes_in", "documents_out", "bytes_out", "seconds", "task_seconds", "quarantined"),
                List.copyOf(read.keySet()));
        assertEquals(1.235, read.get("seconds"), "seconds to the millisecond");
        assertEquals(3L, read.get("documents_in"), "reading takes files in");
        @SuppressWarnings("unchecked") Map<String, Object> write = (Map<String, Object>) stages.get("write");
        assertEquals(List.of("documents_in", "bytes_in", "documents_out", "bytes_out", "seconds", "files", "keep", "removed_samples"),
                List.copyOf(write.keySet()));
        assertEquals("representatives", write.get("keep"));
        @SuppressWarnings("unchecked") Map<String, Object> clean = (Map<String, Object>) stages.get("clean");
        assertEquals(List.of("documents_in", "bytes_in", "documents_out", "bytes_out", "seconds", "task_seconds", "removed", "steps"),
                List.copyOf(clean.keySet()));
        @SuppressWarnings("unchecked") Map<String, Map<String, Object>> steps = (Map<String, Map<String, Object>>) clean.get("steps");
        assertEquals(List.of("unicode_nfkc", "empty_after_cleaning"), List.copyOf(steps.keySet()), "every step in pipeline order");
        assertEquals(List.of("documents_in", "documents_kept", "dropped", "task_seconds"), List.copyOf(steps.get("unicode_nfkc").keySet()));
        assertEquals(Map.of(), steps.get("unicode_nfkc").get("dropped"), "a cleaner drops nothing");
        assertEquals(0.04, steps.get("unicode_nfkc").get("task_seconds"));
        @SuppressWarnings("unchecked") Map<String, Map<String, Object>> filters =
                (Map<String, Map<String, Object>>) ((Map<String, Object>) stages.get("filter")).get("steps");
        assertEquals(8L, filters.get("gopher_short_doc").get("documents_kept"));
        assertEquals(Map.of("gopher_short_doc", Map.of("documents", 2L, "bytes", 200L)), filters.get("gopher_short_doc").get("dropped"));
        assertEquals(0.001, m.get("input_mb_per_second"), "5000 bytes in 4 s: 0.00125 MB/s, to three decimals");
        @SuppressWarnings("unchecked") Map<String, Object> input = (Map<String, Object>) m.get("input");
        assertEquals(List.of("paths", "files", "bytes", "already_processed_files"), List.copyOf(input.keySet()));
    }

    @Test
    void nearDedupFindingsAppearOnlyWhenItRan() {
        @SuppressWarnings("unchecked") Map<String, Object> on = (Map<String, Object>) ((Map<String, Object>) written(true).toMap().get("stages")).get("near_dedup");
        @SuppressWarnings("unchecked") Map<String, Object> off = (Map<String, Object>) ((Map<String, Object>) written(false).toMap().get("stages")).get("near_dedup");
        assertEquals(5L, on.get("candidate_pairs"));
        assertEquals(2, on.get("components_rounds"));
        assertFalse(off.containsKey("candidate_pairs"));
        assertEquals("word 5-grams", off.get("shingles"));
        assertEquals(false, off.get("enabled"));
    }

    @Test
    void upToDateSaysSoAndNothingElse() {
        assertEquals(List.of("job", "spark_version", "output", "run", "up_to_date"),
                List.copyOf(new PreprocessStats.UpToDate("3.5.1", "file:/out", 3).toMap().keySet()));
        assertEquals(3, new PreprocessStats.UpToDate("3.5.1", "file:/out", 3).toMap().get("run"));
    }

    @Test
    void countsAndClusterSizesAdd() {
        assertEquals(new Counts(18, 1800), TEN.plus(EIGHT));
        assertEquals(new Flow(new Counts(20, 2000), new Counts(16, 1600)), new Flow(TEN, EIGHT).plus(new Flow(TEN, EIGHT)));
        ClusterSizes a = new ClusterSizes(Map.of("2", 3L, "9-16", 1L));
        ClusterSizes b = new ClusterSizes(Map.of("3-4", 2L, "2", 1L));
        ClusterSizes sum = a.plus(b);
        assertEquals(List.of("2", "3-4", "9-16"), List.copyOf(sum.clustersBySize().keySet()), "buckets in size order, not string order");
        assertEquals(7, sum.clusters());
        assertEquals(List.of("2", "2", "3-4", "3-4", "5-8", "9-16", "17-32"),
                List.of(1L, 2L, 3L, 4L, 5L, 16L, 17L).stream().map(ClusterSizes::sizeBucket).toList());
    }
}
