package dev.kiln.testing;

import dev.kiln.preprocess.read.FileReaders;
import dev.kiln.preprocess.read.InputConfig;
import dev.kiln.preprocess.read.InputFile;
import dev.kiln.preprocess.read.ReadRecord;
import org.apache.hadoop.conf.Configuration;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Every record the readers make of {@code files}, in order, on the driver: what the tests of the readers compare. */
public final class ReadAll {
    private ReadAll() {
    }

    public static List<ReadRecord> records(List<InputFile> files, InputConfig input, Configuration conf) {
        List<ReadRecord> out = new ArrayList<>();
        for (InputFile f : files) {
            FileReaders.read(f, input, conf).forEachRemaining(out::add);
        }
        return Collections.unmodifiableList(out);
    }
}
