package dev.kiln.jobs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The part of the linter Checkstyle cannot do (it runs in the validate phase for imports and method length): no
 * inline fully-qualified type name in the code of any module where an import would do. An import would not do, and
 * the qualified name stays, when the simple name is already imported from another package, declared in the file,
 * a class of the file's own package, a {@code java.lang} name, or used from two packages in one file.
 */
class SourceStyleTest {
    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w.])((?:java|javax|org|com|dev|scala|jdk|ai|io|net)(?:\\.[a-z][a-z0-9_]*)+)\\.([A-Z]\\w*)(?![\\w$])");
    private static final Pattern IMPORT = Pattern.compile("^import ([\\w.]+)\\.(\\w+);", Pattern.MULTILINE);
    private static final Pattern DECLARED = Pattern.compile("\\b(?:class|interface|enum|record)\\s+([A-Z]\\w*)");
    private static final Set<String> JAVA_LANG = Set.of("Boolean", "Byte", "Character", "Class", "Double", "Enum",
            "Error", "Exception", "Float", "Integer", "Iterable", "Long", "Math", "Module", "Number", "Object",
            "Override", "Package", "Process", "Record", "Runnable", "Runtime", "Short", "String", "System", "Thread",
            "Throwable", "Void", "Deprecated", "SuppressWarnings", "InterruptedException", "RuntimeException",
            "IllegalArgumentException", "IllegalStateException", "UnsupportedOperationException", "Compiler");

    @Test
    void noInlineQualifiedNameWhereAnImportWouldDo() throws IOException {
        Path root = Paths.get("").toAbsolutePath().getParent(); // the build runs this test in pipeline-jobs/
        List<Path> sourceRoots = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path m : modules.toList()) {
                for (String kind : List.of("main", "test")) {
                    Path r = m.resolve("src").resolve(kind).resolve("java");
                    if (Files.isDirectory(r)) {
                        sourceRoots.add(r);
                    }
                }
            }
        }
        assertTrue(sourceRoots.size() >= 8, "expected the modules' source folders under " + root + ", found " + sourceRoots);
        List<String> found = new ArrayList<>();
        for (Path r : sourceRoots) {
            try (Stream<Path> files = Files.walk(r)) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(f -> found.addAll(check(f, sourceRoots)));
            }
        }
        assertTrue(found.isEmpty(), found.size() + " inline fully-qualified names where an import would do:\n"
                + String.join("\n", found));
    }

    private static List<String> check(Path file, List<Path> sourceRoots) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String code = withoutCommentsAndStrings(text);
        Matcher pkg = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE).matcher(code);
        String ownPackage = pkg.find() ? pkg.group(1) : "";
        Map<String, String> imported = new HashMap<>();
        for (Matcher m = IMPORT.matcher(code); m.find(); ) {
            imported.put(m.group(2), m.group(1));
        }
        Set<String> declared = new HashSet<>();
        for (Matcher m = DECLARED.matcher(code); m.find(); ) {
            declared.add(m.group(1));
        }
        Map<String, Set<String>> packagesOf = new HashMap<>();
        List<String[]> uses = new ArrayList<>(); // {package, simple name, line}
        String[] lines = code.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith("import ") || lines[i].startsWith("package ")) {
                continue;
            }
            for (Matcher m = QUALIFIED.matcher(lines[i]); m.find(); ) {
                packagesOf.computeIfAbsent(m.group(2), k -> new HashSet<>()).add(m.group(1));
                uses.add(new String[]{m.group(1), m.group(2), String.valueOf(i + 1)});
            }
        }
        List<String> found = new ArrayList<>();
        for (String[] u : uses) {
            String simple = u[1];
            boolean clash = packagesOf.get(simple).size() > 1
                    || (imported.containsKey(simple) && !imported.get(simple).equals(u[0]))
                    || declared.contains(simple)
                    || (!u[0].equals(ownPackage) && sameDirectoryHas(sourceRoots, ownPackage, simple))
                    || (JAVA_LANG.contains(simple) && !u[0].equals("java.lang"));
            if (!clash) {
                found.add(file + ":" + u[2] + ": " + u[0] + "." + simple);
            }
        }
        return found;
    }

    private static boolean sameDirectoryHas(List<Path> sourceRoots, String pkg, String simple) {
        return sourceRoots.stream().anyMatch(r -> Files.exists(r.resolve(pkg.replace('.', '/')).resolve(simple + ".java")));
    }

    /** The text with comments, string and char literals blanked (same length, newlines kept). */
    static String withoutCommentsAndStrings(String text) {
        char[] out = text.toCharArray();
        int i = 0;
        int n = text.length();
        while (i < n) {
            int end;
            if (text.startsWith("//", i)) {
                end = text.indexOf('\n', i);
                end = end < 0 ? n : end;
            } else if (text.startsWith("/*", i)) {
                end = text.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
            } else if (text.startsWith("\"\"\"", i)) {
                end = text.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end + 3;
            } else if (text.charAt(i) == '"' || text.charAt(i) == '\'') {
                char quote = text.charAt(i);
                end = i + 1;
                while (end < n && text.charAt(end) != quote) {
                    end += text.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(n, end + 1);
            } else {
                i++;
                continue;
            }
            for (int k = i; k < end; k++) {
                if (out[k] != '\n') {
                    out[k] = ' ';
                }
            }
            i = end;
        }
        return new String(out);
    }
}
