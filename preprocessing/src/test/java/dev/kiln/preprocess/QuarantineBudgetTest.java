package dev.kiln.preprocess;

import dev.kiln.common.io.BadInputException;
import dev.kiln.testing.LocalSpark;
import dev.kiln.testing.PreprocessRuns;
import dev.kiln.testing.TestLineage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuarantineBudgetTest {
    @TempDir
    Path tmp;

    @Test
    void theBudgetIsAShareOfAllRecordsAndOneMeansOff() {
        assertFalse(QuarantineBudget.exceeded(99, 1, 1.0), "1.0 is off");
        assertFalse(QuarantineBudget.exceeded(1, 99, 0.01), "exactly at the limit is allowed");
        assertTrue(QuarantineBudget.exceeded(2, 98, 0.01));
        assertTrue(QuarantineBudget.exceeded(1, 0, 0.0));
        assertFalse(QuarantineBudget.exceeded(0, 0, 0.0), "no records at all is not bad input");
        String m = QuarantineBudget.message(2, 98, 0.01, List.of("a.txt: not_utf8"));
        assertTrue(m.contains("kiln.preprocess.input.max-quarantined-fraction") && m.contains("2 of 100") && m.contains("a.txt"), m);
    }

    @Test
    void aRunOverTheBudgetFailsAsBadInputAndWritesNothing() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.writeString(in.resolve("good.txt"), "A perfectly ordinary document about the weather in the mountains today.");
        Files.write(in.resolve("bad.txt"), new byte[]{(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xFE, 'x'});
        Path out = tmp.resolve("out");
        PreprocessConfig cfg = PreprocessRuns.config("input.paths", in.toString(), "output.path", out.toString(),
                "input.format", "text", "input.max-quarantined-fraction", "0.1");
        BadInputException e = assertThrows(BadInputException.class, () -> PreprocessPipeline.run(LocalSpark.get(), cfg, TestLineage.preprocess(LocalSpark.get())));
        assertTrue(e.getMessage().contains("bad.txt"), e.getMessage());
        assertFalse(Files.exists(out), "nothing is written");
        assertEquals(List.of("in"), Files.list(tmp).map(p -> p.getFileName().toString()).toList(), "no staging folder left");
    }
}
