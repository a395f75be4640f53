package dev.kiln.evaluate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Grouping sources and capping the groups, without Spark. */
class SourceGroupsTest {
    static final String SOTU = "file:/root/.cache/kiln/samples/sotu-0.2.3/package/data/1790_george_washington_n.json";

    static String group(SourceGroups.GroupBy by, String pattern, String source) {
        return new SourceGroups(by, pattern, 30).grouper().group(source);
    }

    @Test
    void folderFilePatternAndNone() {
        assertEquals("file:/root/.cache/kiln/samples/sotu-0.2.3/package/data", group(SourceGroups.GroupBy.FOLDER, "", SOTU));
        assertEquals("hdfs://nn:8020/corpus/web", group(SourceGroups.GroupBy.FOLDER, "", "hdfs://nn:8020/corpus/web/part-1.jsonl.gz"));
        assertEquals("s3a://bucket/a", group(SourceGroups.GroupBy.FOLDER, "", "s3a://bucket/a/b/"), "a trailing slash is ignored");
        assertEquals("/", group(SourceGroups.GroupBy.FOLDER, "", "/x.txt"));
        assertEquals(SourceGroups.NO_FOLDER, group(SourceGroups.GroupBy.FOLDER, "", "x.txt"));
        assertEquals(SOTU, group(SourceGroups.GroupBy.FILE, "", SOTU));
        assertEquals(SourceGroups.ALL, group(SourceGroups.GroupBy.NONE, "", SOTU));

        String century = "/(1[789]|20)\\d\\d_[^/]*$";
        assertEquals("17", group(SourceGroups.GroupBy.PATTERN, century, SOTU));
        assertEquals("20", group(SourceGroups.GroupBy.PATTERN, century, "file:/d/2016_barack_obama_d.json"));
        assertEquals(SourceGroups.UNMATCHED, group(SourceGroups.GroupBy.PATTERN, century, "file:/d/1650_nobody.json"));
        assertEquals(SourceGroups.UNMATCHED, group(SourceGroups.GroupBy.PATTERN, "/(a)?b/", "/b/"), "an optional group that took part in no match");
        assertEquals("17", group(SourceGroups.GroupBy.PATTERN, "(\\d\\d)\\d\\d_", "x/1790_1_1801_"), "the first match found");
    }

    @Test
    void aPatternNeedsACaptureGroupAndValidSyntax() {
        assertThrows(IllegalArgumentException.class, () -> new SourceGroups(SourceGroups.GroupBy.PATTERN, "/data/", 3));
        assertThrows(IllegalArgumentException.class, () -> new SourceGroups(SourceGroups.GroupBy.PATTERN, "(", 3));
        assertThrows(IllegalArgumentException.class, () -> new SourceGroups(SourceGroups.GroupBy.FILE, "", 0));
    }

    static List<LmStats> stats(double nll, long tokens) {
        return List.of(new LmStats(nll, tokens, tokens * 3, tokens / 2, 1), new LmStats(nll * 2, tokens, tokens * 3, tokens / 2, 1));
    }

    @Test
    void theLargestGroupsByTokensAreKeptAndTheRestSummedIntoOther() {
        Map<String, List<LmStats>> groups = new LinkedHashMap<>();
        groups.put("d", stats(1.5, 10));
        groups.put("a", stats(2.0, 40));
        groups.put("c", stats(4.0, 30));
        groups.put("b", stats(8.0, 30));
        groups.put("e", stats(16.0, 5));
        SourceGroups.Capped c = new SourceGroups(SourceGroups.GroupBy.FOLDER, "", 3).cap(groups);
        // a (40), then b and c (30, tied: by name); d and e into (other); name order, (other) last.
        assertEquals(List.of("a", "b", "c", SourceGroups.OTHER), new ArrayList<>(c.groups().keySet()));
        assertEquals(5, c.found());
        assertEquals(2, c.folded());
        List<LmStats> other = c.groups().get(SourceGroups.OTHER);
        assertEquals(new LmStats(17.5, 15, 45, 7, 2), other.get(0));
        assertEquals(new LmStats(35.0, 15, 45, 7, 2), other.get(1));
        // The capped groups still add up to everything.
        long tokens = c.groups().values().stream().mapToLong(l -> l.get(0).tokens()).sum();
        assertEquals(115, tokens);

        SourceGroups.Capped all = new SourceGroups(SourceGroups.GroupBy.FOLDER, "", 30).cap(groups);
        assertEquals(List.of("a", "b", "c", "d", "e"), new ArrayList<>(all.groups().keySet()));
        assertEquals(0, all.folded());
        assertEquals(Map.of(), new SourceGroups(SourceGroups.GroupBy.NONE, "", 1).cap(Map.of()).groups());
    }
}
