package dev.kiln.preprocess.dedup;

import dev.kiln.testing.LocalSpark;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Distributed Large-Star/Small-Star against a sequential union-find on graphs of several shapes. */
class ConnectedComponentsTest {

    @Test
    void matchesUnionFindOnChainsStarsAndRandomGraphs() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(LocalSpark.get().sparkContext());
        List<Tuple2<String, String>> edges = new ArrayList<>();
        // A long chain in shuffled id order (the worst case for label propagation), a star, a cycle, random edges.
        Random rnd = new Random(3);
        List<Integer> chain = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            chain.add(i);
        }
        Collections.shuffle(chain, rnd);
        for (int i = 1; i < chain.size(); i++) {
            edges.add(new Tuple2<>(node(chain.get(i - 1)), node(chain.get(i))));
        }
        for (int i = 1001; i < 1050; i++) {
            edges.add(new Tuple2<>(node(1000), node(i)));
        }
        for (int i = 2000; i < 2020; i++) {
            edges.add(new Tuple2<>(node(i), node(i == 2019 ? 2000 : i + 1)));
        }
        for (int i = 0; i < 400; i++) {
            int a = 3000 + rnd.nextInt(600);
            int b = 3000 + rnd.nextInt(600);
            edges.add(new Tuple2<>(node(a), node(b)));
        }
        ConnectedComponents.Result r = ConnectedComponents.run(jsc.parallelizePairs(edges, 4), 4, 64);
        Map<String, String> got = r.labels().collectAsMap();
        Map<String, String> expected = unionFind(edges);
        assertEquals(expected, new HashMap<>(got));
        System.out.println("connected components: " + got.size() + " labelled nodes in " + r.rounds() + " rounds");
    }

    private static String node(int i) {
        return String.format("n%05d", i);
    }

    /** node -> smallest node of its component, for nodes that are not themselves the smallest. */
    private static Map<String, String> unionFind(List<Tuple2<String, String>> edges) {
        Map<String, String> parent = new HashMap<>();
        for (Tuple2<String, String> e : edges) {
            String a = find(parent, e._1());
            String b = find(parent, e._2());
            if (!a.equals(b)) {
                if (a.compareTo(b) < 0) {
                    parent.put(b, a);
                } else {
                    parent.put(a, b);
                }
            }
        }
        Map<String, String> out = new HashMap<>();
        for (String n : new ArrayList<>(parent.keySet())) {
            String root = find(parent, n);
            if (!root.equals(n)) {
                out.put(n, root);
            }
        }
        return out;
    }

    private static String find(Map<String, String> parent, String x) {
        String p = parent.getOrDefault(x, x);
        if (p.equals(x)) {
            parent.putIfAbsent(x, x);
            return x;
        }
        String r = find(parent, p);
        parent.put(x, r);
        return r;
    }
}
