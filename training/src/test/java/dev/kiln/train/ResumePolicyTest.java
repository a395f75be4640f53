package dev.kiln.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.kiln.common.config.InvalidConfigException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kiln.train.resume: the pure decision on literal state.json shapes, then auto on real tiny runs. */
class ResumePolicyTest {
    @TempDir
    static java.nio.file.Path tmp;
    static Path shards;

    @BeforeAll
    static void shards() throws Exception {
        shards = SotuShards.write(tmp.resolve("shards"), TinyRuns.CONTEXT, 20);
    }

    private static JsonNode state(String modelJson, String tokenizer) throws Exception {
        return new ObjectMapper().readTree("{\"step\": 20, \"tokenizer_sha256\": \"" + tokenizer + "\", \"config\": {\"model\": "
                + modelJson + "}}");
    }

    private static TrainConfig cfg(String output, Map<String, String> overrides) {
        return TrainConfig.from(TinyRuns.config(shards.toString(), output, overrides));
    }

    @Test
    void theReferenceDefaultIsNeverAndTheModesParse() {
        assertEquals(ResumePolicy.Mode.NEVER, cfg("o", Map.of()).resume());
        assertEquals(ResumePolicy.Mode.AUTO, cfg("o", Map.of("resume", "auto")).resume());
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> cfg("o", Map.of("resume", "sometimes")));
        assertTrue(e.getMessage().contains("kiln.train.resume"), e.getMessage());
    }

    @Test
    void autoStartsOnAnEmptyOutputContinuesTheSameRunAndRefusesAnotherNamingTheKey() throws Exception {
        TrainConfig c = cfg("out", Map.of());
        // Both shapes a checkpoint's config can have: the rendered kiln.train section and the record's JSON.
        JsonNode rendered = state("{\"layers\": 2, \"d-model\": 64, \"heads\": 4, \"mlp-ratio\": 4, \"tie-embeddings\": true}", "abc");
        JsonNode record = state("{\"layers\": 2, \"dModel\": 64, \"heads\": 4, \"mlpRatio\": 4, \"tieEmbeddings\": true}", "abc");
        assertFalse(ResumePolicy.resume(ResumePolicy.Mode.AUTO, null, null, c, "abc"));
        assertTrue(ResumePolicy.resume(ResumePolicy.Mode.AUTO, "step-00000020", rendered, c, "abc"));
        assertTrue(ResumePolicy.resume(ResumePolicy.Mode.AUTO, "step-00000020", record, c, "abc"));
        assertTrue(ResumePolicy.resume(ResumePolicy.Mode.ALWAYS, "step-00000020", null, c, "abc"));
        assertFalse(ResumePolicy.resume(ResumePolicy.Mode.NEVER, "step-00000020", null, c, "abc"));

        InvalidConfigException layers = assertThrows(InvalidConfigException.class, () -> ResumePolicy.resume(ResumePolicy.Mode.AUTO,
                "step-00000020", state("{\"layers\": 3, \"d-model\": 64, \"heads\": 4, \"mlp-ratio\": 4}", "abc"), c, "abc"));
        assertEquals("kiln.train.model.layers", layers.key());
        assertTrue(layers.getMessage().contains("step-00000020") && layers.getMessage().contains("kiln.train.resume = auto"),
                layers.getMessage());
        // A checkpoint from before tie-embeddings existed is untied: a tied run does not continue it.
        InvalidConfigException untied = assertThrows(InvalidConfigException.class, () -> ResumePolicy.resume(ResumePolicy.Mode.AUTO,
                "step-00000020", state("{\"layers\": 2, \"d-model\": 64, \"heads\": 4, \"mlp-ratio\": 4}", "abc"), c, "abc"));
        assertEquals("kiln.train.model.tie-embeddings", untied.key());
        // Its untied head had a bias: an untied run with head-bias = true continues it, one without a bias does not.
        JsonNode earlier = state("{\"layers\": 2, \"d-model\": 64, \"heads\": 4, \"mlp-ratio\": 4}", "abc");
        assertTrue(ResumePolicy.resume(ResumePolicy.Mode.AUTO, "step-00000020", earlier,
                cfg("out", Map.of("model.tie-embeddings", "false", "model.head-bias", "true")), "abc"),
                "an untied run with a head bias continues an earlier checkpoint");
        InvalidConfigException noBias = assertThrows(InvalidConfigException.class, () -> ResumePolicy.resume(
                ResumePolicy.Mode.AUTO, "step-00000020", earlier, cfg("out", Map.of("model.tie-embeddings", "false")), "abc"));
        assertEquals("kiln.train.model.head-bias", noBias.key());
        assertTrue(noBias.getMessage().contains("not recorded"), noBias.getMessage());
        assertTrue(ResumePolicy.resume(ResumePolicy.Mode.AUTO, "step-00000020", state("{\"layers\": 2, \"d-model\": 64, "
                + "\"heads\": 4, \"mlp-ratio\": 4, \"tie-embeddings\": false, \"head-bias\": false}", "abc"),
                cfg("out", Map.of("model.tie-embeddings", "false")), "abc"), "an untied run without bias continues its own");
        InvalidConfigException tok = assertThrows(InvalidConfigException.class,
                () -> ResumePolicy.resume(ResumePolicy.Mode.AUTO, "step-00000020", rendered, c, "other"));
        assertEquals("kiln.train.shards", tok.key());
    }

    @Test
    void autoOnRealRunsStartsThenResumesThenRefusesAChangedModel() throws Exception {
        java.nio.file.Path out = tmp.resolve("auto");
        Map<String, String> o = Map.of("steps", "10", "validation.every", "0", "checkpoint.every", "10", "resume", "auto");
        Config first = TinyRuns.config(shards.toString(), out.toString(), o);
        String plan = Pretraining.plan(TrainConfig.from(first), new Configuration(), ResumePolicy.Mode.AUTO);
        assertTrue(plan.contains("would start at step 0"), plan);
        assertFalse(Files.exists(out), "planning writes nothing");
        assertEquals(0, Pretraining.run(null, TrainConfig.from(first), TinyRuns.lineage(first), false).startStep());

        Config longer = TinyRuns.config(shards.toString(), out.toString(), Map.of("steps", "20", "validation.every", "0",
                "checkpoint.every", "10", "resume", "auto"));
        String again = Pretraining.plan(TrainConfig.from(longer), new Configuration(), ResumePolicy.Mode.AUTO);
        assertTrue(again.contains("would resume from checkpoint") && again.contains("step 10 of 20"), again);
        Pretrainer.Result r = Pretraining.run(null, TrainConfig.from(longer), TinyRuns.lineage(longer), false);
        assertEquals(10, r.startStep());
        assertEquals(20, r.endStep());

        Config wider = TinyRuns.config(shards.toString(), out.toString(), Map.of("steps", "30", "resume", "auto",
                "model.layers", "3"));
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> Pretraining.run(null, TrainConfig.from(wider), TinyRuns.lineage(wider), false));
        assertEquals("kiln.train.model.layers", e.key());
        FileSystem fs = FileSystem.getLocal(new Configuration());
        assertEquals(2, fs.listStatus(new Path(out.resolve("checkpoints").toUri())).length, "the refused run wrote nothing");
    }
}
