package dev.kiln.jobs;

import dev.kiln.generate.Generation;
import dev.kiln.generate.GenerationConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code kiln generate}: text from a checkpoint, for one {@code --prompt TEXT} (decoded in the driver, printed and
 * written) or for the prompt file {@code kiln.generate.prompts} (Spark tasks over the prompts). See
 * {@link Generation} and reference.conf ({@code kiln.generate}).
 */
public final class GenerateJob {
    static final String USAGE = """
            kiln generate [--conf FILE] [-Dkiln.generate.KEY=VALUE ...] [--prompt TEXT]

            Generates text from a checkpoint (kiln.generate.checkpoint: a step-NNNNNNNN folder or a `kiln pretrain`
            output, default kiln.train.output) with the tokenizer its shards were made with, and writes one JSONL line
            per sequence to kiln.generate.output (prompt_index, prompt, sequence_index, text, tokens, stop_reason).

              --prompt TEXT                           one prompt, decoded in the driver; its text is also printed
              -Dkiln.generate.prompts=FILE            a prompt per line, or .jsonl with a "prompt" field (Spark job)
              -Dkiln.generate.max-new-tokens=N        new tokens per sequence (else max-length = prompt + new, 20)
              -Dkiln.generate.do-sample=true          sample (default: greedy)
              -Dkiln.generate.temperature=T  top-k=K  top-p=P  repetition-penalty=R  num-return-sequences=N  seed=S
              --dry-run                               check the checkpoint, tokenizer and prompts; say what would be
                                                      generated and where; write nothing
            """;

    private GenerateJob() {
    }

    /** {@code --prompt TEXT} or {@code --prompt=TEXT}, taken out of the arguments before the usual parsing. */
    record Arguments(String prompt, String[] rest) {
        static Arguments parse(String[] args) {
            String prompt = null;
            List<String> rest = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--prompt")) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("--prompt needs a text argument");
                    }
                    prompt = args[++i];
                } else if (args[i].startsWith("--prompt=")) {
                    prompt = args[i].substring("--prompt=".length());
                } else {
                    rest.add(args[i]);
                }
            }
            return new Arguments(prompt, rest.toArray(String[]::new));
        }
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the job and returns its exit status (0 ok, 1 failed, 2 bad arguments, config or input). */
    static int run(String[] args) {
        Arguments a;
        try {
            a = Arguments.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("kiln generate: " + e.getMessage());
            return 2;
        }
        return JobRunner.run(JobRunner.Stage.of("generate", GenerationConfig.SECTION, USAGE, GenerationConfig::from,
                (spark, cfg, lineage, cl) -> {
                    if (a.prompt() == null) {
                        Generation.run(spark, cfg);
                        return Outcome.none();
                    }
                    for (Generation.Completion c : Generation.runOne(spark.sparkContext().hadoopConfiguration(), cfg,
                            a.prompt()).completions()) {
                        System.out.println(c.prompt() + c.text());
                    }
                    return Outcome.none();
                }).withDryRun((cfg, hadoop, cl) -> Generation.plan(hadoop, cfg, a.prompt())), a.rest());
    }
}
