package dev.kiln.documents;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.common.config.Lineage;
import dev.kiln.common.io.FileHashes;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunManifestTest {
    @TempDir
    java.nio.file.Path tmp;

    static RunManifest manifest(int run) throws Exception {
        return new RunManifest(RunManifest.FORMAT_VERSION, run, "2026-01-01T00:00:00Z",
                List.of(new RunManifest.InputEntry("file:/in/a.json", 10, 20, "abc")),
                List.of(new RunManifest.FileEntry("documents/" + RunManifest.runName(run) + "/part-0.parquet", 123)),
                7, "index/" + RunManifest.runName(run), 7 * run, new IndexSpec(true, "word", 5, 128, 1, 3),
                new ObjectMapper().readTree("{\"x\": 1}"), null, null);
    }

    @Test
    void runNamesArePartitionFolders() {
        assertEquals("run=0001", RunManifest.runName(1));
        assertEquals("run=0123", RunManifest.runName(123));
        assertEquals(42, RunManifest.parseRun("run=0042"));
        assertEquals(-1, RunManifest.parseRun("run=42"));
        assertEquals(-1, RunManifest.parseRun("run=0000"));
        assertEquals(-1, RunManifest.parseRun("_tmp-run=0001-x"));
        assertThrows(IllegalArgumentException.class, () -> RunManifest.runName(0));
    }

    @Test
    void jsonRoundTripsAndChecksTheFormatVersion() throws Exception {
        RunManifest m = manifest(3);
        byte[] json = m.toJsonBytes();
        assertEquals(m.toString(), RunManifest.fromJson(json, "m.json").toString());
        assertArrayEquals(json, RunManifest.fromJson(json, "m.json").toJsonBytes(), "stable bytes, so the hash is stable");
        String other = new String(json).replace("\"formatVersion\" : 1", "\"formatVersion\" : 99");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RunManifest.fromJson(other.getBytes(), "m.json"));
        assertTrue(e.getMessage().contains("m.json") && e.getMessage().contains("99"), e.getMessage());
    }

    @Test
    void theLineageRoundTripsAndManifestsWrittenWithoutItStillRead() throws Exception {
        Lineage lineage = Lineage.of("preprocess", "kiln.preprocess",
                new ObjectMapper().readTree("{\"output\": {\"path\": \"out\"}}"), "3.5.7");
        RunManifest plain = manifest(2);
        RunManifest with = new RunManifest(plain.formatVersion(), plain.run(), plain.created(), plain.inputs(), plain.documentFiles(),
                plain.documents(), plain.index(), plain.indexDocuments(), plain.indexSpec(), plain.config(), lineage.toJson(), null);
        RunManifest back = RunManifest.fromJson(with.toJsonBytes(), "m.json");
        assertEquals(lineage.toJson(), back.lineage());
        assertEquals("preprocess", back.lineage().path("stage").asText());
        assertEquals("kiln.preprocess", back.lineage().path("section").asText());
        assertEquals(lineage, Lineage.fromJson(back.lineage()));

        // A manifest of an earlier Kiln has no lineage key at all (or null): it reads, with no lineage, and the scheduled
        // incremental runs that read earlier runs' manifests go on.
        ObjectNode old = (ObjectNode) new ObjectMapper().readTree(plain.toJsonBytes());
        old.remove("lineage");
        assertTrue(!old.has("lineage"));
        RunManifest read = RunManifest.fromJson(new ObjectMapper().writeValueAsBytes(old), "old.json");
        assertEquals(null, read.lineage());
        assertEquals(plain.inputs(), read.inputs());
        assertEquals(null, RunManifest.fromJson(plain.toJsonBytes(), "null.json").lineage(), "written as null, read as none");
    }

    @Test
    void readAllFindsCommittedRunsOnlyAndRejectsGaps() throws Exception {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path out = new Path(tmp.toUri());
        assertEquals(List.of(), RunManifest.readAll(fs, out));
        for (int run : List.of(1, 2)) {
            Path dir = RunManifest.runDir(out, run);
            fs.mkdirs(dir);
            manifest(run).write(fs, dir);
        }
        Files.createDirectories(tmp.resolve("runs/run=0003")); // an uncommitted attempt: no manifest
        Files.createDirectories(tmp.resolve("runs/_tmp-run=0003-x"));
        List<RunManifest.Committed> runs = RunManifest.readAll(fs, out);
        assertEquals(List.of(1, 2), runs.stream().map(RunManifest.Committed::run).toList());
        assertEquals(FileHashes.sha256(manifest(1).toJsonBytes()), runs.get(0).sha256());
        assertNotEquals(runs.get(0).sha256(), runs.get(1).sha256());

        fs.delete(RunManifest.runDir(out, 1), true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RunManifest.readAll(fs, out));
        assertTrue(e.getMessage().contains("run=0001 is missing"), e.getMessage());
    }

    @Test
    void indexSpecsMustMatchWhereNearDedupReadsSignatures() {
        IndexSpec made = new IndexSpec(true, "word", 5, 128, 1, 3);
        assertEquals(null, made.incompatibility(made));
        assertEquals(null, made.incompatibility(new IndexSpec(false, "char", 3, 64, 2, 3)), "no near dedup: signatures unused");
        String why = made.incompatibility(new IndexSpec(true, "word", 7, 128, 9, 3));
        assertTrue(why.contains("kiln.preprocess.minhash.ngram-size 5 -> 7") && why.contains("kiln.preprocess.minhash.seed 1 -> 9"), why);
        assertTrue(new IndexSpec(false, "word", 5, 128, 1, 3).incompatibility(made).contains("kiln.preprocess.dedup.near"));
    }
}
