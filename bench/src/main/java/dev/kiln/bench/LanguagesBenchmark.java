package dev.kiln.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.preprocess.PreprocessConfig;
import dev.kiln.preprocess.PreprocessPipeline;
import dev.kiln.preprocess.dedup.Shingles;
import dev.kiln.preprocess.lang.LanguageId;
import dev.kiln.preprocess.lang.Words;
import dev.kiln.testing.ChineseDuplicates;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.apache.spark.sql.SparkSession;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * What Chinese and language identification cost in {@code kiln preprocess}, on an English and a Chinese corpus of the
 * same size in UTF-8 bytes: SOTU speeches, and Tang poems from chinese-poetry, both cut into documents of about 2 KB.
 * Part 1, one thread, warm, no Spark: MB/s of the words step (whitespace tokens for English, ICU dictionary
 * segmentation for Chinese), of shingling, and of language identification reading 1000 characters or whole
 * documents. Part 2: the whole job on {@code spark.master} (default local[2]) with the default settings
 * (for Chinese without language identification, the Chinese word-length bounds, so both runs filter alike), input
 * MB/s with language identification on and off, eight input files so the read tasks use every core.
 *
 * <p>Arguments: {@code [megabytes=8] [repeats=3]}.
 */
public final class LanguagesBenchmark {
    private LanguagesBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int mb = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long bytes = mb * 1_000_000L;
        List<String> en = english(bytes);
        List<String> zh = chinese(bytes);
        System.out.printf(Locale.ROOT, "corpora: English %d docs, Chinese %d docs, %d MB each (UTF-8)%n", en.size(), zh.size(), mb);
        for (String lang : List.of("en", "zh")) {
            List<String> docs = lang.equals("en") ? en : zh;
            report(lang, "words (filters)", docs, repeats, t -> Words.of(t, Words.segmentationOf(t)));
            report(lang, "shingles (word 5 / dictionary 3)", docs, repeats, t -> Shingles.words(t, 5, 3));
            report(lang, "language id, 500 chars (default)", docs, repeats, t -> LanguageId.identify(t, 500));
            report(lang, "language id, whole doc", docs, repeats, t -> LanguageId.identify(t, 0));
        }
        String master = System.getProperty("spark.master", "local[2]");
        SparkSession spark = SparkSession.builder().master(master).appName("languages-benchmark")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        Path dir = Files.createTempDirectory("kiln-languages-bench");
        for (String lang : List.of("en", "zh")) {
            // Eight files, so the read tasks spread over the cores (a task reads whole files).
            Path in = Files.createDirectories(dir.resolve(lang));
            ObjectMapper json = new ObjectMapper();
            List<String> docs = lang.equals("en") ? en : zh;
            for (int part = 0; part < 8; part++) {
                List<String> lines = new ArrayList<>();
                for (int i = part; i < docs.size(); i += 8) {
                    lines.add(json.writeValueAsString(Map.of("text", docs.get(i))));
                }
                Files.write(in.resolve("part-" + part + ".jsonl"), lines);
            }
            long inputBytes;
            try (Stream<Path> parts = Files.list(in)) {
                inputBytes = parts.mapToLong(p -> p.toFile().length()).sum();
            }
            for (String language : List.of("true", "false")) {
                double best = 0;
                long kept = 0;
                double readSeconds = 0;
                for (int r = 0; r < repeats; r++) {
                    // Without language identification Chinese gets the default thresholds; give it the Chinese word
                    // lengths so both runs filter alike and only the language step differs.
                    String minLength = lang.equals("zh") && language.equals("false") ? "1.0" : "3.0";
                    String maxLength = lang.equals("zh") && language.equals("false") ? "5.0" : "10.0";
                    PreprocessConfig cfg = PreprocessRuns.config("input.paths", "[\"" + in + "\"]", "output.path",
                            dir.resolve("out-" + lang + "-" + language + "-" + r).toString(), "language.enabled", language,
                            "filter.max-dropped-fraction", "1.0", "filter.min-mean-word-length", minLength,
                            "filter.max-mean-word-length", maxLength);
                    long t0 = System.nanoTime();
                    Map<String, Object> stats = PreprocessPipeline.run(spark, cfg, TestLineage.preprocess(spark));
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    @SuppressWarnings("unchecked")
                    Map<String, Object> read = (Map<String, Object>) ((Map<String, Object>) stats.get("stages")).get("filter");
                    readSeconds = ((Number) read.get("task_seconds")).doubleValue();
                    best = Math.max(best, inputBytes / 1e6 / seconds);
                    @SuppressWarnings("unchecked")
                    Map<String, Object> filter = (Map<String, Object>) ((Map<String, Object>) stats.get("stages")).get("filter");
                    kept = ((Number) filter.get("documents_out")).longValue();
                }
                System.out.printf(Locale.ROOT, "preprocess job %s, %s, language id %-5s: %.2f MB/s (best of %d), %d documents kept by the"
                        + " filters; filter stage %.1f task seconds (last run)%n", master, lang, language, best, repeats, kept, readSeconds);
            }
        }
        spark.stop();
    }

    private static void report(String lang, String what, List<String> docs, int repeats, Consumer<String> step) {
        long bytes = docs.stream().mapToLong(t -> t.getBytes(StandardCharsets.UTF_8).length).sum();
        docs.forEach(step); // warm-up (and the language model's loading)
        double best = 0;
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            docs.forEach(step);
            best = Math.max(best, bytes / 1e6 / ((System.nanoTime() - t0) / 1e9));
        }
        System.out.printf(Locale.ROOT, "one thread, %s, %-34s %8.2f MB/s (%.1f ms per MB)%n", lang, what, best, 1000 / best);
    }

    /** SOTU speeches cut into documents of about 2,000 bytes at sentence ends, up to {@code bytes}. */
    private static List<String> english(long bytes) throws Exception {
        List<String> out = new ArrayList<>();
        long total = 0;
        try (Stream<Path> s = Files.list(SampleCorpora.sotu())) {
            for (Path f : s.filter(p -> p.toString().endsWith(".txt")).sorted().toList()) {
                StringBuilder cur = new StringBuilder();
                for (String sentence : Files.readString(f).split("(?<=[.!?])\\s+")) {
                    cur.append(sentence).append(' ');
                    if (cur.length() >= 2000) {
                        out.add(cur.toString().strip());
                        total += out.get(out.size() - 1).getBytes(StandardCharsets.UTF_8).length;
                        cur.setLength(0);
                        if (total >= bytes) {
                            return out;
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Tang and Song poems, one per line, joined into documents of about 2,000 bytes, up to {@code bytes}. */
    private static List<String> chinese(long bytes) {
        List<String> poems = new ArrayList<>(ChineseDuplicates.poems(SampleCorpora.chinesePoetry().resolve("quantangshi"), "poet.tang.", 60_000));
        List<String> out = new ArrayList<>();
        long total = 0;
        StringBuilder cur = new StringBuilder();
        for (String p : poems) {
            cur.append(p).append('\n');
            if (cur.length() * 3 >= 2000) {
                out.add(cur.toString().strip());
                total += out.get(out.size() - 1).getBytes(StandardCharsets.UTF_8).length;
                cur.setLength(0);
                if (total >= bytes) {
                    break;
                }
            }
        }
        return out;
    }
}
