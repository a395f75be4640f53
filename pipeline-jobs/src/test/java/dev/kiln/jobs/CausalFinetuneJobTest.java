package dev.kiln.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.jobs.JobRuns.Run;
import dev.kiln.shards.Manifest;
import dev.kiln.shards.ShardSchema;
import dev.kiln.testing.LineageAssertions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static dev.kiln.jobs.JobRuns.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln finetune} with {@code task = causal}, the way a user runs it: every stage through its job on real text.
 * SOTU speeches are preprocessed, tokenized (a tokenizer trained here) and pre-trained into a tiny GPT; SpamAssassin
 * mail is preprocessed and tokenized with the parent's tokenizer ({@code kiln.tokenize.tokenizer.path}); then the
 * causal fine-tune continues the parent on the mail and logs validation loss on both corpora; {@code kiln evaluate}
 * scores parent and fine-tune side by side on the mail. Every job runs with {@code spark.serializer} = Kryo, as
 * clusters often set it (Kiln's task payloads are records, which need KilnKryoRegistrator there). The learning itself
 * (the new corpus's loss falling from the parent's) is tested in training's CausalFinetuningTest.
 */
class CausalFinetuneJobTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void local() {
        System.setProperty("spark.master", "local[1]");
        System.setProperty("spark.ui.enabled", "false");
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
        // What `spark-submit --conf spark.serializer=...` or a cluster's spark-defaults.conf sets.
        System.setProperty("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    }

    @AfterAll
    static void clear() {
        for (String p : new String[]{"spark.master", "spark.ui.enabled", "spark.driver.host", "spark.driver.bindAddress", "spark.serializer"}) {
            System.clearProperty(p);
        }
    }

    private static Run finetune(String... args) {
        return JobRuns.capture(() -> FinetuneJob.run(args));
    }

    private static List<JsonNode> jsonLines(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(json.readTree(line));
            }
        }
        return out;
    }

    private static Manifest manifest(Path tokenized) throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        return Manifest.read(fs, new org.apache.hadoop.fs.Path(tokenized.toUri()));
    }

    private static Path newest(Path checkpoints) throws IOException {
        try (var s = Files.list(checkpoints)) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    @Test
    void aCausalFineTuneOfAPretrainedRunOnMailTokenizedWithItsTokenizer() throws Exception {
        Path sotu = SampleCorpora.sotu();
        Path mail = SampleCorpora.spamAssassin().resolve("easy-ham-1");

        // The parent: SOTU 1790-1829 (40 speeches) -> documents -> a 400-token BPE, context 32 -> a tiny GPT.
        Path sotuDocs = tmp.resolve("sotu-preprocessed");
        Run pre = run(PreprocessJob.stage(), "-Dkiln.preprocess.input.paths=" + sotu.resolve("1[78][0-2]*.txt"),
                "-Dkiln.preprocess.output.path=" + sotuDocs);
        assertEquals(0, pre.status(), pre.both());
        Path sotuTokens = tmp.resolve("sotu-tokenized");
        Run tok = run(TokenizeJob.stage(), "-Dkiln.tokenize.input=" + sotuDocs, "-Dkiln.tokenize.output=" + sotuTokens,
                "-Dkiln.tokenize.tokenizer.vocab-size=400", "-Dkiln.tokenize.context-length=32",
                "-Dkiln.tokenize.validation-fraction=0.2");
        assertEquals(0, tok.status(), tok.both());
        Path parent = tmp.resolve("pretrain");
        Run pretrain = run(PretrainJob.stage(), "-Dkiln.train.shards=" + sotuTokens, "-Dkiln.train.output=" + parent,
                "-Dkiln.train.model.layers=1", "-Dkiln.train.model.d-model=32", "-Dkiln.train.model.heads=2",
                "-Dkiln.train.steps=6", "-Dkiln.train.batch-size=4", "-Dkiln.train.optimizer.warmup-steps=2",
                "-Dkiln.train.validation.batches=2");
        assertEquals(0, pretrain.status(), pretrain.both());

        // The new domain: 120 easy-ham mails, tokenized with the parent's tokenizer.
        Path mailDocs = tmp.resolve("mail-preprocessed");
        Run preMail = run(PreprocessJob.stage(), "-Dkiln.preprocess.input.paths=" + mail.resolve("00[01]*.txt"),
                "-Dkiln.preprocess.input.format=mail", "-Dkiln.preprocess.output.path=" + mailDocs);
        assertEquals(0, preMail.status(), preMail.both());
        Path mailTokens = tmp.resolve("mail-tokenized");
        Run tokMail = run(TokenizeJob.stage(), "-Dkiln.tokenize.input=" + mailDocs, "-Dkiln.tokenize.output=" + mailTokens,
                "-Dkiln.tokenize.tokenizer.path=" + sotuTokens.resolve("tokenizer.json"), "-Dkiln.tokenize.context-length=32",
                "-Dkiln.tokenize.validation-fraction=0.2");
        assertEquals(0, tokMail.status(), tokMail.both());
        ObjectMapper json = new ObjectMapper();
        String tokenizerSha = manifest(sotuTokens).tokenizerSha256();
        assertFalse(tokenizerSha.isEmpty());
        assertEquals(tokenizerSha, manifest(mailTokens).tokenizerSha256(), "the mail is tokenized with the parent's tokenizer");
        assertTrue(manifest(mailTokens).tokens(ShardSchema.VALIDATION) > 0, "the mail has a validation split");

        // The causal fine-tune, through the job: first a dry run, which checks both corpora and writes nothing.
        Path out = tmp.resolve("causal");
        Run dry = finetune("-Dkiln.finetune.task=causal", "-Dkiln.finetune.checkpoint=" + parent,
                "-Dkiln.finetune.causal.shards=" + mailTokens, "-Dkiln.finetune.output=" + out, "-Dkiln.finetune.causal.steps=6",
                "--dry-run");
        assertEquals(0, dry.status(), dry.both());
        assertTrue(dry.out().contains("new corpus: ") && dry.out().contains("original corpus: ")
                && dry.out().contains("would train 6 step(s)") && dry.out().contains("no checkpoint yet"), dry.out());
        assertFalse(Files.exists(out), "a dry run writes nothing");
        Run ft = finetune("-Dkiln.finetune.task=causal", "-Dkiln.finetune.checkpoint=" + parent,
                "-Dkiln.finetune.causal.shards=" + mailTokens, "-Dkiln.finetune.output=" + out,
                "-Dkiln.finetune.batch-size=4", "-Dkiln.finetune.causal.steps=6", "-Dkiln.finetune.causal.warmup-steps=2",
                "-Dkiln.finetune.causal.validation-every=3", "-Dkiln.finetune.causal.validation-batches=2",
                "-Dkiln.finetune.causal.checkpoint-every=3");
        assertEquals(0, ft.status(), ft.both());

        // Validation on both corpora at step 0 (the parent's weights), the middle and the end.
        Set<String> seen = new TreeSet<>();
        for (JsonNode m : jsonLines(out.resolve("metrics.jsonl"))) {
            if (m.path("kind").asText().equals("validation")) {
                assertTrue(Double.isFinite(m.path("loss").asDouble()) && m.path("loss").asDouble() > 0, m.toString());
                seen.add(m.path("corpus").asText() + "@" + m.path("step").asInt());
            }
        }
        assertEquals(new TreeSet<>(List.of("new@0", "new@3", "new@6", "original@0", "original@3", "original@6")), seen);

        // The checkpoint: step 6, the parent's tokenizer, the parent named by path and model SHA-256, the lineage.
        Path ckpt = newest(out.resolve("checkpoints"));
        assertEquals("step-00000006", ckpt.getFileName().toString());
        JsonNode state = json.readTree(ckpt.resolve("state.json").toFile());
        assertEquals(tokenizerSha, state.path("tokenizer_sha256").asText());
        JsonNode stage = state.path("stage");
        assertEquals("causal", stage.path("task").asText(), state.toString());
        Path parentModel = newest(parent.resolve("checkpoints")).resolve("model.zip");
        String parentSha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(parentModel)));
        assertEquals(parentSha, stage.path("parent").path("model_sha256").asText(), stage.toString());
        LineageAssertions.assertLineage(state.path("lineage"), "finetune", "kiln.finetune");

        // kiln evaluate: the parent and the fine-tune side by side on the mail's validation split; a dry run first.
        Path reports = tmp.resolve("reports");
        Run plan = JobRuns.capture(() -> EvaluateJob.run(new String[]{"-Dkiln.evaluate.checkpoints=[\"" + parent + "\", \"" + out + "\"]",
                "-Dkiln.evaluate.shards=" + mailTokens, "-Dkiln.evaluate.output=" + reports, "-Dkiln.evaluate.run-name=causal",
                "--dry-run"}));
        assertEquals(0, plan.status(), plan.both());
        assertTrue(plan.out().contains("(step 6)") && plan.out().contains("shards " ) && plan.out().contains("would write ")
                && plan.out().contains("causal (report.json, report.md, report.html)"), plan.out());
        assertFalse(Files.exists(reports), "a dry run writes nothing");
        Run evaluated = JobRuns.capture(() -> EvaluateJob.run(new String[]{"-Dkiln.evaluate.checkpoints=[\"" + parent + "\", \"" + out + "\"]",
                    "-Dkiln.evaluate.shards=" + mailTokens, "-Dkiln.evaluate.output=" + reports, "-Dkiln.evaluate.run-name=causal",
                    "-Dkiln.evaluate.generation.from-validation=2", "-Dkiln.evaluate.generation.prompt-tokens=8",
                    "-Dkiln.evaluate.generation.reference-tokens=8", "-Dkiln.evaluate.generation.max-new-tokens=8"}));
        assertEquals(0, evaluated.status(), evaluated.both());
        JsonNode report = json.readTree(reports.resolve("causal/report.json").toFile());
        JsonNode scorers = report.path("results").path(0).path("scorers");
        assertEquals(2 + 3, scorers.size(), "two checkpoints and three baselines: " + scorers);
        for (JsonNode sc : scorers) {
            assertTrue(Double.isFinite(sc.path("loss").asDouble()) && sc.path("loss").asDouble() > 0, sc.toString());
        }
    }
}
