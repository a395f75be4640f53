package dev.kiln.common.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputLockTest {
    @TempDir
    java.nio.file.Path dir;

    private FileSystem fs() throws Exception {
        return FileSystem.getLocal(new Configuration());
    }

    private Path output() {
        return new Path(dir.resolve("out").toUri());
    }

    @Test
    void theLockIsAFileBesideTheOutputNamingItsHolderAndGoesAwayOnClose() throws Exception {
        FileSystem fs = fs();
        Path lockFile;
        try (OutputLock lock = OutputLock.acquire(fs, output(), "preprocess", false)) {
            lockFile = lock.file();
            assertEquals("out.lock", lockFile.getName());
            assertTrue(Files.exists(dir.resolve("out.lock")));
            assertFalse(Files.exists(dir.resolve("out")), "the output folder itself is not created");
            OutputLock.Holder h = OutputLock.read(fs, lockFile);
            assertNotNull(h);
            assertEquals("preprocess", h.job());
            assertEquals(ProcessHandle.current().pid(), h.pid());
            assertEquals(System.getProperty("user.name"), h.user());
            assertFalse(h.started().isBlank());
        }
        assertFalse(Files.exists(dir.resolve("out.lock")));
        assertFalse(Files.exists(dir.resolve(".out.lock.crc")), "no checksum side file is left");
    }

    @Test
    void aTrailingSlashNamesTheSameLock() throws Exception {
        Path slash = new Path(dir.resolve("out").toUri().toString() + "/");
        assertEquals(OutputLock.fileFor(output()), OutputLock.fileFor(slash));
        assertEquals("out.lock", OutputLock.fileFor(slash).getName());
    }

    @Test
    void aHeldLockRefusesASecondRunWithAMessageNamingTheFileHolderAndHowToClearIt() throws Exception {
        FileSystem fs = fs();
        try (OutputLock first = OutputLock.acquire(fs, output(), "tokenize", false)) {
            OutputLock.HeldException e = assertThrows(OutputLock.HeldException.class,
                    () -> OutputLock.acquire(fs, output(), "tokenize", false));
            assertEquals(first.file(), e.lockFile());
            assertEquals(first.holder(), e.holder());
            assertTrue(e.getMessage().contains(first.file().toString()), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(e.getMessage().contains(first.holder().started()), e.getMessage());
            assertTrue(e.getMessage().contains("--break-lock"), e.getMessage());
            assertTrue(Files.exists(dir.resolve("out.lock")), "a refused run leaves the holder's lock alone");
        }
    }

    @Test
    void breakLockReplacesAStaleLockAndTheStaleHolderDoesNotDeleteTheNewOne() throws Exception {
        FileSystem fs = fs();
        OutputLock stale = OutputLock.acquire(fs, output(), "pretrain", false);
        try (OutputLock taken = OutputLock.acquire(fs, output(), "pretrain", true)) {
            assertFalse(taken.holder().token().equals(stale.holder().token()));
            stale.close();
            assertEquals(taken.holder(), OutputLock.read(fs, taken.file()), "the stale holder's close left the new lock");
        }
        assertFalse(Files.exists(dir.resolve("out.lock")));
    }

    @Test
    void ofManyConcurrentAttemptsExactlyOneTakesTheLock() throws Exception {
        FileSystem fs = fs();
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        ConcurrentLinkedQueue<OutputLock> won = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> refused = new ConcurrentLinkedQueue<>();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(pool.submit(() -> {
                go.await();
                try {
                    won.add(OutputLock.acquire(fs, output(), "preprocess", false));
                } catch (OutputLock.HeldException e) {
                    refused.add(e);
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : futures) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(1, won.size());
        assertEquals(n - 1, refused.size());
        won.peek().close();
    }

    @Test
    void aStatusFileRoundTrips() throws Exception {
        FileSystem fs = fs();
        RunStatus s = new RunStatus("tokenize", 3, RunStatus.FAILED, "2026-12-01T10:00:00Z", "2026-12-01T10:01:00Z",
                Map.of("documents", 12L), 7, "boom");
        s.write(fs, output());
        assertEquals(s, RunStatus.read(fs, output()));
        assertTrue(Files.readString(dir.resolve("out/status.json")).contains("\"exit_code\" : 7"));
    }
}
