package dev.kiln.preprocess;

import dev.kiln.preprocess.PreprocessStats.Counts;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Documents and bytes (after cleaning) of the representatives and per duplicate reason, counted in one Spark job. */
record DedupOutcomes(Counts representatives, Map<String, Counts> byReason) {
    /** The shuffle key of representatives, which have no reason (never a reason's name). */
    private static final String REPRESENTATIVE = "";

    static DedupOutcomes of(JavaRDD<Clustered> docs) {
        Map<String, Counts> byReason = new TreeMap<>(docs
                .mapToPair(x -> new Tuple2<>(x.isRepresentative() ? REPRESENTATIVE : x.reason(), new Counts(1, x.p().bytesCleaned())))
                .reduceByKey(Counts::plus)
                .collectAsMap());
        Counts representatives = byReason.getOrDefault(REPRESENTATIVE, Counts.ZERO);
        byReason.remove(REPRESENTATIVE);
        return new DedupOutcomes(representatives, byReason);
    }

    /** The stage's {@code removed} entry: {@code reasons} in this order, zeros included. */
    Map<String, Counts> removed(List<String> reasons) {
        Map<String, Counts> m = new LinkedHashMap<>();
        reasons.forEach(r -> m.put(r, byReason.getOrDefault(r, Counts.ZERO)));
        return m;
    }
}
