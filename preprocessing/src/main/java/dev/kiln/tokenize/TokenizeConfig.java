package dev.kiln.tokenize;

import com.typesafe.config.Config;
import dev.kiln.common.config.Settings;
import dev.kiln.tokenize.bpe.PreTokenizer;

import java.util.List;
import java.util.Locale;

/**
 * Everything {@code kiln tokenize} reads from {@code kiln.tokenize} (documented, with defaults, in reference.conf),
 * validated before Spark starts.
 */
public record TokenizeConfig(String input, String output, int contextLength, double validationFraction, int shards,
                             boolean specialTokensInText, String tokenizerPath, int vocabSize, PreTokenizer preTokenizer,
                             List<String> specialTokens, String endOfText, int minFrequency, Source source) {
    /** What the shards record as a document's source (evaluate's per-source results group by it). */
    public enum Source { PATH, LANGUAGE }

    public static final String SECTION = "kiln.tokenize";

    public static TokenizeConfig from(Config config) {
        Settings s = new Settings(config, SECTION);
        Settings t = s.section("tokenizer");
        String input = s.string("input").trim();
        s.require(!input.isEmpty(), "input", "set the documents to tokenize (the folder `kiln preprocess` wrote, or Parquet files)");
        String output = s.string("output").trim();
        s.require(!output.isEmpty(), "output", "set the folder to write tokenizer.json, manifest.json and shards/ to");
        int context = s.intIn("context-length", 1, 1 << 20);
        double fraction = s.doubleIn("validation-fraction", 0.0, 0.5);
        int shards = s.intIn("shards", 0, 100_000);
        boolean specialInText = s.oneOf("special-tokens-in-text", "text", "special").equals("special");
        String path = t.optionalString("path");
        List<String> specials = t.stringList("special-tokens");
        t.require(!specials.isEmpty(), "special-tokens", "needs at least the end-of-text token");
        t.require(specials.stream().distinct().count() == specials.size(), "special-tokens", "has duplicates: " + specials);
        t.require(specials.stream().noneMatch(String::isEmpty), "special-tokens", "has an empty string");
        String eot = t.nonEmpty("end-of-text");
        t.require(specials.contains(eot), "end-of-text", "\"" + eot + "\" must be one of special-tokens " + specials);
        int vocab = t.intIn("vocab-size", 256 + specials.size(), 1 << 24);
        PreTokenizer pre = PreTokenizer.valueOf(t.oneOf("pre-tokenizer", "gpt4", "gpt2").toUpperCase(Locale.ROOT));
        int minFrequency = t.intIn("min-frequency", 1, Integer.MAX_VALUE);
        return new TokenizeConfig(input, output, context, fraction, shards, specialInText, path, vocab, pre,
                List.copyOf(specials), eot, minFrequency, s.enumValue("source", Source.class));
    }
}
