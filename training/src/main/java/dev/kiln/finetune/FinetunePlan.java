package dev.kiln.finetune;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.train.checkpoint.CheckpointStore;
import dev.kiln.train.checkpoint.ModelCheckpoint;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.IOException;
import java.util.Optional;

/**
 * {@code kiln finetune --dry-run}: the checks a run makes before it reads any document or trains (the parent checkpoint
 * and its tokenizer; the labelled documents' folder, or for {@code task = causal} both corpora's tokenizer, vocabulary
 * and context), and what it would do, without a Spark session and without writing anything.
 */
public final class FinetunePlan {
    private FinetunePlan() {
    }

    /** The plan as lines for a person; bad input is the {@link InvalidConfigException} the run would throw. */
    public static String plan(FinetuneConfig cfg, Configuration hadoop, boolean resume) throws IOException {
        ParentModel parent = ParentModel.open(cfg, hadoop);
        ModelCheckpoint m = parent.checkpoint();
        StringBuilder sb = new StringBuilder();
        sb.append("  parent: ").append(m.folder()).append(" (step ").append(m.step()).append("), context ")
                .append(m.contextLength()).append(", vocabulary ").append(m.vocabSize()).append('\n');
        sb.append("  tokenizer: ").append(parent.tokenizer().path()).append('\n');
        if (cfg.task() == FinetuneConfig.Task.CAUSAL) {
            causal(cfg, hadoop, parent, sb);
        } else {
            classify(cfg, hadoop, sb);
        }
        Path output = new Path(cfg.output());
        CheckpointStore checkpoints = new CheckpointStore(output.getFileSystem(hadoop), new Path(output, "checkpoints"),
                cfg.checkpointKeep());
        if (!resume) {
            // The dry run refuses what the run would refuse, with the same message and exit code.
            checkpoints.refuseStartOver(FinetuneConfig.SECTION + ".output", "pass --resume");
        }
        Optional<Path> latest = checkpoints.latest();
        sb.append("  output: ").append(output).append(latest.isPresent()
                ? ": holds checkpoint " + latest.get().getName() + "; --resume would continue it"
                : ": no checkpoint yet; a run would start from the parent").append('\n');
        return sb.toString();
    }

    /** The labelled documents: the folder a run reads, its Parquet files, and the label source and splits. */
    static void classify(FinetuneConfig cfg, Configuration hadoop, StringBuilder sb) throws IOException {
        Path given = new Path(cfg.documents());
        FileSystem fs = given.getFileSystem(hadoop);
        Path folder = LabelledDocuments.documentsFolder(fs, given);
        long files = 0;
        for (RemoteIterator<LocatedFileStatus> it = fs.listFiles(folder, true); it.hasNext(); ) {
            files += it.next().getPath().getName().endsWith(".parquet") ? 1 : 0;
        }
        if (files == 0) {
            throw new InvalidConfigException(FinetuneConfig.SECTION + ".documents", folder.toString(),
                    "holds no Parquet files; expected a `kiln preprocess` output");
        }
        sb.append("  documents: ").append(folder).append(" (").append(files).append(" Parquet file(s)), labels from ")
                .append(cfg.labelSource()).append("; splits train/validation/test ")
                .append(1 - cfg.validationFraction() - cfg.testFraction()).append('/').append(cfg.validationFraction()).append('/')
                .append(cfg.testFraction()).append('\n');
        sb.append("  would train ").append(cfg.epochs()).append(" epoch(s) of batch ").append(cfg.batchSize()).append(" on ")
                .append(cfg.parallel().workers()).append(" worker(s) and write checkpoints, best/, metrics.jsonl and predictions/\n");
    }

    /** Both corpora of a causal fine-tune, checked against the parent's tokenizer, vocabulary and context. */
    static void causal(FinetuneConfig cfg, Configuration hadoop, ParentModel parent, StringBuilder sb) throws IOException {
        String tokenizerSha = parent.tokenizer().sha256();
        FinetuneConfig.Causal c = cfg.causal();
        Path shards = new Path(c.shards());
        Manifest m = Manifest.read(shards.getFileSystem(hadoop), shards);
        CausalFinetuning.checkTokenizer(m, shards, CausalFinetuning.SHARDS_KEY, parent, tokenizerSha);
        Path original = new Path(c.originalShards() != null ? c.originalShards() : CausalFinetuning.parentShards(parent));
        Manifest o = Manifest.read(original.getFileSystem(hadoop), original);
        CausalFinetuning.checkTokenizer(o, original, CausalFinetuning.ORIGINAL_KEY, parent, tokenizerSha);
        sb.append("  new corpus: ").append(shards).append(": ").append(m.tokens(ShardSchema.TRAIN)).append(" train tokens\n");
        sb.append("  original corpus: ").append(original).append(" (validation loss on it as well)\n");
        sb.append("  would train ").append(c.steps()).append(" step(s) of batch ").append(cfg.batchSize()).append(" on ")
                .append(cfg.parallel().workers()).append(" worker(s) and write checkpoints and metrics.jsonl\n");
    }
}
