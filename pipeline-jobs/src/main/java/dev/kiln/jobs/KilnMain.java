package dev.kiln.jobs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The jar's main class: {@code spark-submit kiln.jar <stage> [args]} (no {@code --class}) runs the stage's job, as
 * {@code bin/kiln <stage>} does. Both read the same table, {@code conf/stages}, which the build copies into the jar
 * as {@value #TABLE}.
 */
public final class KilnMain {
    /** The classpath resource holding conf/stages. */
    static final String TABLE = "/dev/kiln/jobs/stages";
    /** Stage name -> job class, in the table's order. */
    static final Map<String, String> JOBS = readTable();

    private KilnMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0 || !JOBS.containsKey(args[0])) {
            System.err.println("usage: spark-submit kiln.jar <stage> [--conf FILE] [-Dkey=value ...]   stages: "
                    + String.join(", ", JOBS.keySet()) + (args.length == 0 ? "" : "; got '" + args[0] + "'"));
            System.exit(2);
        }
        Class<?> job;
        try {
            job = Class.forName(JOBS.get(args[0]));
        } catch (ClassNotFoundException e) {
            System.err.println("kiln: the '" + args[0] + "' stage is not in this build");
            System.exit(3);
            return;
        }
        Method main = job.getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** conf/stages: "name job-class help-line" rows; '#' starts a comment line. */
    static Map<String, String> readTable() {
        Map<String, String> out = new LinkedHashMap<>();
        try (InputStream in = KilnMain.class.getResourceAsStream(TABLE)) {
            if (in == null) {
                throw new IllegalStateException(TABLE + " is not on the classpath: build kiln.jar with Maven");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                String[] cols = line.trim().split("\\s+", 3);
                if (line.isBlank() || line.startsWith("#") || cols.length < 2) {
                    continue;
                }
                out.put(cols[0], cols[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + TABLE, e);
        }
        return out;
    }
}
