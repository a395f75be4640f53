package dev.kiln.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads Kiln's configuration once per job: {@code -Dkey=value} overrides, then the {@code --conf} file (any Hadoop
 * FileSystem URI or a local path), then every module's {@code reference.conf}. Keys under {@code kiln.} that no
 * reference.conf declares are rejected, so a typo never silently falls back to a default.
 */
public final class KilnConfig {
    private KilnConfig() {
    }

    /** Loads and validates; throws {@link InvalidConfigException} naming the bad key. */
    public static Config load(String confFile, Map<String, String> overrides) {
        Config reference = ConfigFactory.defaultReference();
        Config user = ConfigFactory.empty();
        if (confFile != null) {
            user = parseFile(confFile);
        }
        Config cli = parseOverrides(overrides);
        Config userAndCli = cli.withFallback(user);
        checkKnownKeys(userAndCli, reference);
        try {
            return userAndCli.withFallback(reference).resolve();
        } catch (ConfigException.UnresolvedSubstitution e) {
            throw new InvalidConfigException(e.getMessage(), null, "a ${...} substitution names a key that does not exist");
        }
    }

    /** The {@code -D} overrides as a Config whose origin reads "command line". */
    static Config parseOverrides(Map<String, String> overrides) {
        Config out = ConfigFactory.empty();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            String origin = "command line -D" + key;
            Config one;
            try {
                if (value.startsWith("[") || value.startsWith("{")) {
                    one = ConfigFactory.parseString(key + " = " + value,
                            ConfigParseOptions.defaults().setOriginDescription(origin));
                } else {
                    one = ConfigFactory.parseMap(Map.of(key, value), origin);
                }
            } catch (ConfigException e2) {
                throw new InvalidConfigException(key, origin, "cannot parse value \"" + value + "\": " + e2.getMessage());
            }
            out = one.withFallback(out);
        }
        return out;
    }

    static Config parseFile(String confFile) {
        ConfigParseOptions options = ConfigParseOptions.defaults().setAllowMissing(false).setOriginDescription(confFile);
        try {
            URI uri = URI.create(confFile.replace(" ", "%20"));
            if (uri.getScheme() != null && !uri.getScheme().equals("file") && uri.getScheme().length() > 1) {
                Path path = new Path(confFile);
                FileSystem fs = path.getFileSystem(new Configuration());
                try (FSDataInputStream in = fs.open(path)) {
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    return ConfigFactory.parseString(text, options);
                }
            }
            File file = uri.getScheme() != null && uri.getScheme().equals("file") ? new File(uri) : new File(confFile);
            if (!file.isFile()) {
                throw new InvalidConfigException("--conf", confFile, "no such file");
            }
            return ConfigFactory.parseFile(file, options.setOriginDescription(null));
        } catch (IllegalArgumentException e) {
            File file = new File(confFile);
            if (!file.isFile()) {
                throw new InvalidConfigException("--conf", confFile, "no such file");
            }
            return ConfigFactory.parseFile(file, options.setOriginDescription(null));
        } catch (ConfigException.Parse e) {
            throw new InvalidConfigException("--conf", confFile, "not valid HOCON: " + e.getMessage());
        } catch (IOException e) {
            throw new InvalidConfigException("--conf", confFile, "cannot read: " + e);
        }
    }

    /** Rejects user keys under {@code kiln.} that no reference.conf declares (free-form sections declared as {} excepted). */
    static void checkKnownKeys(Config user, Config reference) {
        for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("kiln.") || reference.hasPathOrNull(key) || underFreeFormSection(key, reference)
                    || underKeyedSection(key, reference)) {
                continue;
            }
            String hint = closestKnownKey(key, reference);
            throw new InvalidConfigException(key, describeOrigin(e.getValue().origin()),
                    "unknown key" + (hint == null ? "" : "; did you mean " + hint + "?"));
        }
    }

    /**
     * Sections keyed by a name the user chooses (a language code), whose entries take keys of the section around them:
     * {@code filter.by-language.ko.min-words} is known because {@code filter.min-words} is. The stage's config record
     * then checks which of those keys an entry may set ({@code FilterConfig}: the thresholds).
     */
    static final Set<String> KEYED_SECTIONS = Set.of("kiln.preprocess.filter.by-language");

    private static boolean underKeyedSection(String key, Config reference) {
        List<String> elements = ConfigUtil.splitPath(key);
        for (String section : KEYED_SECTIONS) {
            List<String> prefix = ConfigUtil.splitPath(section);
            if (elements.size() > prefix.size() + 1 && elements.subList(0, prefix.size()).equals(prefix)) {
                List<String> known = new ArrayList<>(prefix.subList(0, prefix.size() - 1));
                known.addAll(elements.subList(prefix.size() + 1, elements.size()));
                if (reference.hasPathOrNull(ConfigUtil.joinPath(known))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean underFreeFormSection(String key, Config reference) {
        // Keys come rendered ("kiln.spark.conf.\"spark.sql.shuffle.partitions\""): split them as paths, not at dots.
        List<String> elements = ConfigUtil.splitPath(key);
        for (int n = elements.size() - 1; n > 0; n--) {
            String path = ConfigUtil.joinPath(elements.subList(0, n));
            if (reference.hasPathOrNull(path)) {
                ConfigValue v = reference.getValue(path);
                // An empty object in reference.conf (e.g. kiln.spark.conf {}) accepts any keys below it.
                return v.valueType() == ConfigValueType.OBJECT && ((ConfigObject) v).isEmpty();
            }
        }
        return false;
    }

    private static String closestKnownKey(String key, Config reference) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
            int d = editDistance(key, e.getKey());
            if (d < bestDistance) {
                bestDistance = d;
                best = e.getKey();
            }
        }
        return bestDistance <= Math.max(3, key.length() / 5) ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** "conf/demo.conf: 12", "command line -Dkiln.x", or "reference.conf (default)". */
    public static String describeOrigin(ConfigOrigin origin) {
        if (origin == null) {
            return null;
        }
        String where = origin.filename() != null ? origin.filename()
                : origin.resource() != null ? origin.resource() + " (default)"
                : origin.url() != null ? origin.url().toString() : origin.description();
        if (origin.lineNumber() > 0 && !String.valueOf(where).contains(": " + origin.lineNumber())) {
            where = where + ": " + origin.lineNumber();
        }
        return where;
    }

    /** The effective configuration under {@code section}, as JSON for lineage records (manifest, stats, checkpoints). */
    public static String renderJson(Config config, String section) {
        return config.getConfig(section).root().render(ConfigRenderOptions.concise().setFormatted(true));
    }
}
