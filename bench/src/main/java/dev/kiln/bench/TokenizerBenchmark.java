package dev.kiln.bench;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.kiln.samples.SampleCorpora;
import dev.kiln.tokenizer.BpeTokenizer;
import dev.kiln.tokenizer.BpeTrainer;
import dev.kiln.tokenizer.IntList;
import dev.kiln.tokenizer.PreTokenCounts;
import dev.kiln.tokenizer.PreTokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Encodes the SOTU corpus single-threaded with Kiln's byte-level BPE and with jtokkit (cl100k_base) in the same JVM
 * and prints MB/s of each and the ratio; then times BPE training on SOTU for an 8k and a 32k vocabulary.
 *
 * <p>Run: {@code mvn -B -o -q -pl bench -am package -DskipTests && java -cp "$(cat bench/target/classpath.txt)" ...}
 * or simply {@code bench/run TokenizerBenchmark} (see the README). Arguments: {@code [rounds=5] [pre-tokenizer=gpt4]}.
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
        BpeTokenizer tok = kiln;
        IntList out = new IntList(1 << 20);
        double kilnBest = Double.MAX_VALUE;
        double jtBest = Double.MAX_VALUE;
        long kilnTokens = 0;
        long jtTokens = 0;
        // Alternate the two so that neither gets a warmer machine; first round is warm-up for both.
        for (int r = 0; r <= rounds; r++) {
            long s = System.nanoTime();
            long n = 0;
            for (String d : docs) {
                out.clear();
                tok.encode(d, out);
                n += out.size();
            }
            double k = (System.nanoTime() - s) / 1e9;
            s = System.nanoTime();
            long m = 0;
            for (String d : docs) {
                m += jtokkit.encodeOrdinary(d).size();
            }
            double j = (System.nanoTime() - s) / 1e9;
            if (r > 0) {
                kilnBest = Math.min(kilnBest, k);
                jtBest = Math.min(jtBest, j);
            }
            kilnTokens = n;
            jtTokens = m;
            System.out.printf(Locale.ROOT, "  round %d%s: kiln %.3f s, jtokkit %.3f s%n", r, r == 0 ? " (warm-up)" : "", k, j);
        }
        double kilnMBs = bytes / 1e6 / kilnBest;
        double jtMBs = bytes / 1e6 / jtBest;
        System.out.printf(Locale.ROOT, "encode SOTU, 1 thread, best of %d: kiln (%s, vocab %,d) %.1f MB/s (%,d tokens, %.3f tokens/byte); "
                        + "jtokkit cl100k_base %.1f MB/s (%,d tokens, %.3f tokens/byte); kiln/jtokkit = %.2fx%n",
                rounds, pre, tok.vocabSize(), kilnMBs, kilnTokens, kilnTokens / (double) bytes, jtMBs, jtTokens, jtTokens / (double) bytes, kilnMBs / jtMBs);
    }
}
