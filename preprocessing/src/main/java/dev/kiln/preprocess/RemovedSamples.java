package dev.kiln.preprocess;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.preprocess.doc.Document;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import static dev.kiln.preprocess.PreprocessPipeline.EXACT_DUPLICATE;

/**
 * {@code removed-samples/<reason>.jsonl} of a run: per removal reason (a cleaning or filter step, or a duplicate
 * kind), the removed documents with the lowest ids, for a person to check what the steps drop. One line per document:
 * id, source, duplicate_of (duplicates), subject (mail), text (cut after {@value #SAMPLE_TEXT_CHARS} characters).
 */
final class RemovedSamples {
    /** Text longer than this is cut (the sample is for eyes, not for training). */
    private static final int SAMPLE_TEXT_CHARS = 4000;

    private RemovedSamples() {
    }

    /**
     * Writes the {@code perReason} lowest-id samples per reason into {@code dir} (one Spark job over the removed and
     * the duplicate documents) and returns how many it wrote per reason.
     */
    static Map<String, Long> write(FileSystem fs, Path dir, JavaRDD<Processed> processed, JavaRDD<Clustered> clustered,
                                   int perReason) throws IOException {
        fs.mkdirs(dir);
        Map<String, Long> written = new TreeMap<>();
        if (perReason == 0) {
            return written;
        }
        JavaPairRDD<String, Map<String, String>> removed = processed.filter(p -> p instanceof Processed.Dropped).map(p -> (Processed.Dropped) p)
                .mapToPair(r -> new Tuple2<>(r.reason(), sample(r.document(), null)));
        JavaPairRDD<String, Map<String, String>> duplicates = clustered.filter(x -> x.reason() != null)
                .mapToPair(x -> new Tuple2<>(x.reason(), sample(x.p().document(),
                        x.reason().equals(EXACT_DUPLICATE) ? x.exactRep() : x.cluster())));
        Map<String, TreeMap<String, Map<String, String>>> samples = removed.union(duplicates)
                .aggregateByKey(new TreeMap<String, Map<String, String>>(), (acc, s) -> keepLowest(acc, s, perReason),
                        (a, b) -> {
                            for (Map<String, String> s : b.values()) {
                                keepLowest(a, s, perReason);
                            }
                            return a;
                        })
                .collectAsMap();
        ObjectMapper json = new ObjectMapper();
        for (Map.Entry<String, TreeMap<String, Map<String, String>>> e : new TreeMap<>(samples).entrySet()) {
            StringBuilder sb = new StringBuilder();
            for (Map<String, String> s : e.getValue().values()) {
                sb.append(json.writeValueAsString(s)).append('\n');
            }
            try (FSDataOutputStream out = fs.create(new Path(dir, e.getKey() + ".jsonl"), false)) {
                out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
            written.put(e.getKey(), (long) e.getValue().size());
        }
        return written;
    }

    private static Map<String, String> sample(Document d, String duplicateOf) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("id", d.id());
        s.put("source", d.source());
        if (duplicateOf != null) {
            s.put("duplicate_of", duplicateOf);
        }
        String subject = d.metadata().get("subject");
        if (subject != null) {
            s.put("subject", subject);
        }
        s.put("text", d.text().length() > SAMPLE_TEXT_CHARS ? d.text().substring(0, SAMPLE_TEXT_CHARS) + " [...]" : d.text());
        return s;
    }

    /** Adds {@code s} to the at most {@code n} samples with the lowest (id, source) so far. */
    private static TreeMap<String, Map<String, String>> keepLowest(TreeMap<String, Map<String, String>> acc, Map<String, String> s, int n) {
        acc.put(s.get("id") + "\u0000" + s.get("source"), s);
        while (acc.size() > n) {
            acc.pollLastEntry();
        }
        return acc;
    }
}
