package dev.kiln.preprocess.read;

import dev.kiln.common.io.MissingInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Expands the configured paths and globs into the sorted list of input files (driver side: names and sizes only).
 * A folder stands for every file below it; names starting with '_' or '.' (Spark/Hadoop markers, hidden files) are
 * skipped. A pattern that matches nothing is an error, since it is almost always a typo.
 */
public final class InputListing {
    private InputListing() {
    }

    public static List<InputFile> list(List<String> patterns, InputFormat format, Configuration conf) throws IOException {
        TreeMap<String, InputFile> files = new TreeMap<>();
        for (String pattern : patterns) {
            Expansion found = expand(new Path(pattern), conf);
            if (!found.matchedAnything()) {
                throw new MissingInputException("kiln.preprocess.input.paths: input path " + pattern + " matches no files");
            }
            for (FileStatus st : found.files()) {
                add(files, st, format);
            }
        }
        return List.copyOf(files.values());
    }

    /**
     * What one path or glob stands for. {@code matchedAnything}: the glob matched at least one path (an empty folder,
     * or one holding only hidden files, matches but lists no files).
     *
     * @param files the visible files, in listing order
     */
    public record Expansion(boolean matchedAnything, List<FileStatus> files) {
    }

    /**
     * The files a path or glob stands for: a matched file itself, a matched folder every file below it; a name
     * starting with '_' or '.' anywhere below the matched path hides the file. Shared by every stage that lists
     * inputs, so they skip the same markers.
     */
    public static Expansion expand(Path pattern, Configuration conf) throws IOException {
        FileSystem fs = pattern.getFileSystem(conf);
        FileStatus[] matches = fs.globStatus(pattern);
        List<FileStatus> out = new ArrayList<>();
        if (matches == null) {
            return new Expansion(false, out);
        }
        for (FileStatus st : matches) {
            if (st.isDirectory()) {
                RemoteIterator<LocatedFileStatus> it = fs.listFiles(st.getPath(), true);
                while (it.hasNext()) {
                    LocatedFileStatus f = it.next();
                    if (!hidden(f.getPath(), st.getPath())) {
                        out.add(f);
                    }
                }
            } else if (!hidden(st.getPath(), st.getPath().getParent())) {
                out.add(st);
            }
        }
        return new Expansion(matches.length > 0, List.copyOf(out));
    }

    private static void add(TreeMap<String, InputFile> files, FileStatus st, InputFormat format) {
        String path = st.getPath().toString();
        files.putIfAbsent(path, new InputFile(path, st.getLen(), st.getModificationTime(), format.resolve(st.getPath().getName())));
    }

    /** True when any path component below {@code root} starts with '_' or '.'. */
    private static boolean hidden(Path file, Path root) {
        for (Path p = file; p != null && !p.equals(root); p = p.getParent()) {
            String n = p.getName();
            if (n.startsWith("_") || n.startsWith(".")) {
                return true;
            }
        }
        String n = file.getName();
        return n.startsWith("_") || n.startsWith(".");
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
