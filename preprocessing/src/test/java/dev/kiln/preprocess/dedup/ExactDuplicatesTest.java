package dev.kiln.preprocess.dedup;

import dev.kiln.testing.LocalSpark;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Exact groups on Spark local: the lowest id represents a group; an earlier run's hash takes the whole group. */
class ExactDuplicatesTest {

    @Test
    void groupsByHashWithTheLowestIdAsRepresentativeAndEarlierRunsWinning() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        // (hash, id): h1 three times, h2 twice, h3 once; an earlier run published h2 as document "e9".
        JavaPairRDD<String, String> docs = jsc.parallelize(List.of(new Tuple2<>("h1", "c"), new Tuple2<>("h1", "a"),
                new Tuple2<>("h1", "b"), new Tuple2<>("h2", "e"), new Tuple2<>("h2", "d"), new Tuple2<>("h3", "f")), 3).mapToPair(t -> t);
        JavaPairRDD<String, String> earlier = jsc.parallelize(List.of(new Tuple2<>("h2", "e9"), new Tuple2<>("h2", "e8")), 1).mapToPair(t -> t);

        ExactDuplicates.Result<String> r = ExactDuplicates.find(docs, id -> id, Optional.of(earlier), 4);
        Map<String, String> rep = new TreeMap<>();
        Map<String, String> ofEarlier = new TreeMap<>();
        for (ExactDuplicates.Member<String> m : r.members().collect()) {
            rep.put(m.doc(), m.representative());
            if (m instanceof ExactDuplicates.Member.OfEarlier<String> e) {
                ofEarlier.put(m.doc(), e.earlier());
            }
        }
        assertEquals(Map.of("a", "a", "b", "a", "c", "a", "d", "d", "e", "d", "f", "f"), rep);
        assertEquals(Map.of("d", "e8", "e", "e8"), ofEarlier, "the earlier run's lowest id takes the whole group");
        assertEquals(Map.of("2", 1L, "3-4", 1L), r.groups().clustersBySize(), "groups of this run only, by size");

        ExactDuplicates.Result<String> first = ExactDuplicates.find(docs, id -> id, Optional.empty(), 4);
        assertEquals(6, first.members().filter(m -> m instanceof ExactDuplicates.Member.New<String>).count(), "no earlier run: all new");
    }
}
