package dev.kiln.tokenize;

import dev.kiln.shards.ShardInfo;
import dev.kiln.shards.ShardSchema;

import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a tokenize run writes a shard, relative to the output folder:
 * {@code shards/<split>/run-NNNN-part-PPPPP.arrow}. The run number is only recorded in the name (the manifest lists
 * shards by path), so this class both writes the name and reads the run back from it.
 *
 * @param run  1 for the first tokenize run into an output, counting up
 * @param part the Spark partition that wrote the shard
 */
record ShardName(String split, int run, int part) {
    /** A shard file name; a staging or foreign name in the folder does not match. */
    private static final Pattern FILE_NAME = Pattern.compile("run-(\\d{4,})-part-(\\d{5,})" + Pattern.quote(ShardSchema.EXTENSION));

    /** {@code shards/<split>/run-NNNN-part-PPPPP.arrow}. */
    String relativePath() {
        return Tokenize.SHARDS_DIR + "/" + split + "/" + String.format(Locale.ROOT, "run-%04d-part-%05d", run, part) + ShardSchema.EXTENSION;
    }

    /** The run number in a shard's path, empty for a name this class did not write (e.g. a staging file). */
    static OptionalInt runOf(String shardPath) {
        Matcher m = FILE_NAME.matcher(shardPath.substring(shardPath.lastIndexOf('/') + 1));
        return m.matches() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    /** The run after the last one whose shards {@code shards} lists; 1 for none. */
    static int nextRun(List<ShardInfo> shards) {
        return 1 + shards.stream().map(s -> runOf(s.path())).filter(OptionalInt::isPresent).mapToInt(OptionalInt::getAsInt).max().orElse(0);
    }
}
