package dev.kiln.jobs;

import dev.kiln.hf.ExportConfig;
import dev.kiln.hf.HfExport;
import org.apache.spark.SparkConf;

import java.util.Map;

/**
 * {@code kiln export}: a language-model checkpoint to a Hugging Face GPT-2 folder ({@link HfExport}). Runs in the
 * driver alone: no SparkSession is started.
 */
public final class ExportJob {
    static final String USAGE = """
            kiln export [--conf FILE] [-Dkiln.export.KEY=VALUE ...]

            Writes a pretrain or causal fine-tune checkpoint (kiln.export.checkpoint: a step-NNNNNNNN folder or a run's
            output, default kiln.train.output) as a Hugging Face GPT-2 folder (kiln.export.output): config.json,
            model.safetensors, tokenizer.json, tokenizer_config.json, special_tokens_map.json, generation_config.json.
            transformers' AutoModelForCausalLM.from_pretrained(folder) loads it with no code. The LM head must have no
            bias (tied, or untied with kiln.train.model.head-bias = false, the default): a head with a bias is refused.
            A classifier fine-tune with pooling = last exports as GPT2ForSequenceClassification (mean pooling is refused).

              -Dkiln.export.tokenizer=FILE            the tokenizer.json (default: the one of the checkpoint's shards)
              -Dkiln.export.end-of-text=TOKEN         GPT-2's bos/eos token (default <|endoftext|>)
              --dry-run                               check the checkpoint and tokenizer; write nothing
            """;

    private ExportJob() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        return JobRunner.run(JobRunner.Stage.of("export", ExportConfig.SECTION, USAGE, ExportConfig::from,
                (spark, cfg, lineage, cl) -> {
                    HfExport.Result r = HfExport.run(cfg, JobRunner.hadoop(new SparkConf()));
                    System.out.println("kiln export: " + r.checkpoint() + " (step " + r.step() + ", " + r.parameters()
                            + " parameters) -> " + r.folder());
                    return new Outcome(1, false, Map.of("parameters", r.parameters(), "step", r.step()));
                }).withDryRun((cfg, hadoop, cl) -> HfExport.plan(cfg, hadoop)).withoutSpark(), args);
    }
}
