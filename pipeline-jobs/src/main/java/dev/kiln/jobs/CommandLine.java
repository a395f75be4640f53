package dev.kiln.jobs;

import com.typesafe.config.Config;
import dev.kiln.common.config.KilnConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A job's own arguments (what follows the application jar on a spark-submit line):
 * {@code [--conf FILE] [-Dkey=value ...] [--resume] [--help]} and any positional arguments.
 */
public record CommandLine(String confFile, Map<String, String> overrides, List<String> flags, List<String> positional) {

    public static CommandLine parse(String... args) {
        String conf = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        List<String> flags = new ArrayList<>();
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--conf") || a.equals("-c")) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--conf needs a file argument");
                }
                conf = args[++i];
            } else if (a.startsWith("--conf=")) {
                conf = a.substring("--conf=".length());
            } else if (a.startsWith("-D")) {
                String kv = a.substring(2);
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected -Dkey=value, got " + a);
                }
                overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
            } else if (a.startsWith("--")) {
                flags.add(a.substring(2));
            } else {
                positional.add(a);
            }
        }
        return new CommandLine(conf, Collections.unmodifiableMap(overrides), List.copyOf(flags), List.copyOf(positional));
    }

    public boolean has(String flag) {
        return flags.contains(flag);
    }

    /** reference.conf, then {@code --conf FILE}, then the {@code -D} overrides, resolved and checked for unknown keys. */
    public Config config() {
        return KilnConfig.load(confFile(), overrides());
    }
}
