package dev.kiln.common.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AtomicOutputTest {

    @Test
    void writeReplacesAndLeavesNoStagingFiles(@TempDir java.nio.file.Path dir) throws Exception {
        FileSystem fs = AtomicOutput.fs(dir.toUri().toString(), new Configuration());
        Path target = new Path(dir.toUri().toString(), "stats.json");
        AtomicOutput.writeString(fs, target, "{\"v\":1}");
        AtomicOutput.writeString(fs, target, "{\"v\":2}");
        assertEquals("{\"v\":2}", Files.readString(dir.resolve("stats.json")));
        try (Stream<java.nio.file.Path> s = Files.list(dir)) {
            assertEquals(1, s.filter(p -> !p.getFileName().toString().startsWith(".")).count(), "only the final file remains");
        }
    }

    @Test
    void failedWriterLeavesNeitherTargetNorStaging(@TempDir java.nio.file.Path dir) throws Exception {
        FileSystem fs = AtomicOutput.fs(dir.toUri().toString(), new Configuration());
        Path target = new Path(dir.toUri().toString(), "shard.arrow");
        assertThrows(IOException.class, () -> AtomicOutput.write(fs, target, out -> {
            out.write(new byte[1000]);
            throw new IOException("disk full (simulated by the writer)");
        }));
        assertFalse(Files.exists(dir.resolve("shard.arrow")));
        try (Stream<java.nio.file.Path> s = Files.list(dir)) {
            assertEquals(0, s.filter(p -> p.getFileName().toString().startsWith("_tmp")).count());
        }
    }
}
