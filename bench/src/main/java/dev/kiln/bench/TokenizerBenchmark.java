package dev.kiln.bench;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.tokenize.bpe.BpeTokenizer;
import dev.kiln.tokenize.bpe.BpeTrainer;
import dev.kiln.tokenize.bpe.IntList;
import dev.kiln.tokenize.bpe.PreTokenCounts;
import dev.kiln.tokenize.bpe.PreTokenizer;
import dev.kiln.tokenize.bpe.TiktokenRanks;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Times BPE training on SOTU for an 8k and a 32k vocabulary, then encodes the SOTU corpus single-threaded with
 * jtokkit (cl100k_base) and with Kiln's encoder in the same JVM, twice: with the very same cl100k_base vocabulary
 * (ids identical to jtokkit's, so the ratio compares the implementations) and with its own 32k vocabulary trained on
 * SOTU. Prints MB/s of each and the ratio to jtokkit.
 *
 * <p>Run (from the repository root): {@code mvn -B -o -q -pl bench -am package -DskipTests}, then
 * {@code mvn -B -o -q -pl bench dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/cp.txt} and
 * {@code java -Xmx4g -cp "preprocessing/target/classes:bench/target/classes:$(cat /tmp/cp.txt)" dev.kiln.bench.TokenizerBenchmark 8}.
 * Arguments: {@code [rounds=5] [pre-tokenizer=gpt4|gpt2]} (the pre-tokenizer of the trained vocabulary).
 */
public final class TokenizerBenchmark {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        PreTokenizer pre = args.length > 1 ? PreTokenizer.valueOf(args[1].toUpperCase(Locale.ROOT)) : PreTokenizer.GPT4;
        List<String> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(SampleCorpora.sotu())) {
            for (Path p : files.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                docs.add(Files.readString(p, StandardCharsets.UTF_8));
            }
        }
        long bytes = docs.stream().mapToLong(d -> d.getBytes(StandardCharsets.UTF_8).length).sum();
        System.out.printf(Locale.ROOT, "SOTU: %d documents, %.2f MB UTF-8, Java %s, %d cores%n", docs.size(), bytes / 1e6,
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());

        // Training time (driver half: merges from pre-token counts; counting timed separately, one thread).
        Map<String, Long> counts = null;
        long t0 = System.nanoTime();
        counts = PreTokenCounts.count(pre, docs.iterator());
        double countSecs = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "pre-token counting (%s, 1 thread): %.2f s, %,d distinct pre-tokens%n", pre, countSecs, counts.size());
        BpeTokenizer kiln = null;
        for (int vocab : new int[]{8192, 32768}) {
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 3; r++) {
                long s = System.nanoTime();
                BpeTokenizer t = BpeTrainer.train(counts, pre, vocab, List.of("<|endoftext|>", "<|pad|>"), 2, null);
                best = Math.min(best, (System.nanoTime() - s) / 1e9);
                if (vocab == 32768) {
                    kiln = t;
                }
            }
            System.out.printf(Locale.ROOT, "BPE training, vocab %,d: merges %.2f s (best of 3), with counting %.2f s%n", vocab, best, best + countSecs);
        }

        Encoding jtokkit = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        BpeTokenizer cl100k;
        try (var in = Encoding.class.getClassLoader().getResourceAsStream("com/knuddels/jtokkit/cl100k_base.tiktoken")) {
            cl100k = TiktokenRanks.read(in, PreTokenizer.GPT4, "cl100k_base.tiktoken");
        }
        // Three encoders, alternated within each round so none gets a quieter machine; round 0 warms up.
        String[] names = {"kiln, same vocabulary as jtokkit (cl100k_base ranks)", "kiln, own 32k BPE trained on SOTU (" + pre + ")",
                "jtokkit cl100k_base"};
        BpeTokenizer[] kilns = {cl100k, kiln};
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        long[] tokens = new long[3];
        IntList out = new IntList(1 << 20);
        for (int r = 0; r <= rounds; r++) {
            StringBuilder line = new StringBuilder("  round " + r + (r == 0 ? " (warm-up)" : "") + ":");
            for (int e = 0; e < 3; e++) {
                long s = System.nanoTime();
                long n = 0;
                for (String d : docs) {
                    if (e < 2) {
                        out.clear();
                        kilns[e].encode(d, out);
                        n += out.size();
                    } else {
                        n += jtokkit.encodeOrdinary(d).size();
                    }
                }
                double secs = (System.nanoTime() - s) / 1e9;
                if (r > 0) {
                    best[e] = Math.min(best[e], secs);
                }
                tokens[e] = n;
                line.append(String.format(Locale.ROOT, " %.3f s", secs));
            }
            System.out.println(line);
        }
        System.out.printf(Locale.ROOT, "encode SOTU, 1 thread, best of %d rounds:%n", rounds);
        double peer = bytes / 1e6 / best[2];
        for (int e = 0; e < 3; e++) {
            double mbs = bytes / 1e6 / best[e];
            System.out.printf(Locale.ROOT, "  %-60s %6.1f MB/s  %,10d tokens (%.3f tokens/byte)  vs jtokkit %.2fx%n",
                    names[e], mbs, tokens[e], tokens[e] / (double) bytes, mbs / peer);
        }
        if (tokens[0] != tokens[2]) {
            System.out.println("  WARNING: kiln with cl100k_base ranks produced a different token count than jtokkit");
        }
    }
}
