package dev.kiln.tokenize;

import dev.kiln.shards.ShardInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shard names are written and read back by one class: the run number survives the round trip. */
class ShardNameTest {

    private static ShardInfo shard(String path) {
        return new ShardInfo(path, "train", 1, 1, 0, 1, 1, "0");
    }

    @Test
    void theNameCarriesSplitRunAndPart() {
        ShardName n = new ShardName("validation", 3, 17);
        assertEquals("shards/validation/run-0003-part-00017.arrow", n.relativePath());
        assertEquals(OptionalInt.of(3), ShardName.runOf(n.relativePath()));
        assertEquals(OptionalInt.of(12345), ShardName.runOf(new ShardName("train", 12345, 0).relativePath()), "past four digits");
    }

    @Test
    void namesItDidNotWriteHaveNoRun() {
        assertEquals(OptionalInt.empty(), ShardName.runOf("shards/train/_tmp-run-0002-part-00001.arrow-123"));
        assertEquals(OptionalInt.empty(), ShardName.runOf("shards/train/notes.txt"));
    }

    @Test
    void theNextRunFollowsTheHighestListed() {
        assertEquals(1, ShardName.nextRun(List.of()));
        assertEquals(3, ShardName.nextRun(List.of(shard("shards/train/run-0001-part-00000.arrow"),
                shard("shards/validation/run-0002-part-00003.arrow"), shard("shards/train/run-0001-part-00001.arrow"))));
    }
}
