package dev.kiln.preprocess.read;

import dev.kiln.common.io.InputPaths;
import dev.kiln.common.io.MissingInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Expands the configured paths and globs into the sorted list of input files (driver side: names and sizes only), as
 * {@link InputPaths} does for every stage. A pattern that matches nothing is an error, since it is almost always a typo.
 */
public final class InputListing {
    private InputListing() {
    }

    public static List<InputFile> list(List<String> patterns, InputFormat format, Configuration conf) throws IOException {
        TreeMap<String, InputFile> files = new TreeMap<>();
        for (String pattern : patterns) {
            InputPaths.Expansion found = InputPaths.expand(new Path(pattern), conf);
            if (!found.matchedAnything()) {
                throw new MissingInputException("kiln.preprocess.input.paths: input path " + pattern + " matches no files");
            }
            for (FileStatus st : found.files()) {
                add(files, st, format);
            }
        }
        return List.copyOf(files.values());
    }

    private static void add(TreeMap<String, InputFile> files, FileStatus st, InputFormat format) {
        String path = st.getPath().toString();
        files.putIfAbsent(path, new InputFile(path, st.getLen(), st.getModificationTime(), format.resolve(st.getPath().getName())));
    }

    /** Groups files into tasks of about {@code bytesPerTask} input bytes each, in listing order (at least one file each). */
    public static List<List<InputFile>> tasks(List<InputFile> files, long bytesPerTask) {
        List<List<InputFile>> tasks = new ArrayList<>();
        List<InputFile> current = new ArrayList<>();
        long bytes = 0;
        for (InputFile f : files) {
            if (!current.isEmpty() && bytes + f.length() > bytesPerTask) {
                tasks.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(f);
            bytes += f.length();
        }
        if (!current.isEmpty()) {
            tasks.add(current);
        }
        return tasks;
    }
}
