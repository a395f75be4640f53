package dev.kiln.preprocess.read;

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
            Path p = new Path(pattern);
            FileSystem fs = p.getFileSystem(conf);
            FileStatus[] matches = fs.globStatus(p);
            int before = files.size();
            if (matches != null) {
                for (FileStatus st : matches) {
                    if (st.isDirectory()) {
                        RemoteIterator<LocatedFileStatus> it = fs.listFiles(st.getPath(), true);
                        while (it.hasNext()) {
                            LocatedFileStatus f = it.next();
                            if (!hidden(f.getPath(), st.getPath())) {
                                add(files, f, format);
                            }
                        }
                    } else if (!hidden(st.getPath(), st.getPath().getParent())) {
                        add(files, st, format);
                    }
                }
            }
            if (files.size() == before && (matches == null || matches.length == 0)) {
                throw new dev.kiln.io.MissingInputException("kiln.preprocess.input.paths: input path " + pattern + " matches no files");
            }
        }
        return List.copyOf(files.values());
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
