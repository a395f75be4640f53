package dev.kiln.common.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a configured input path or glob stands for, the same for every stage that lists inputs (preprocess's raw
 * corpus, tokenize's Parquet documents): a matched file itself, a matched folder every file below it; a name starting
 * with '_' or '.' (Spark/Hadoop markers, hidden files) anywhere below the matched path hides the file.
 */
public final class InputPaths {
    private InputPaths() {
    }

    /**
     * What one path or glob stands for. {@code matchedAnything}: the glob matched at least one path (an empty folder,
     * or one holding only hidden files, matches but lists no files).
     *
     * @param files the visible files, in listing order
     */
    public record Expansion(boolean matchedAnything, List<FileStatus> files) {
    }

    /** The files {@code pattern} stands for (see the class comment). */
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
}
