package dev.kiln.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Typed, validating view of one section of the configuration (for example {@code kiln.preprocess}).
 * Each stage builds its immutable config record from one of these; every accessor fails with an
 * {@link InvalidConfigException} naming the full key, its origin and the expectation.
 */
public final class Settings {
    private final Config root;
    private final String prefix;

    public Settings(Config root, String prefix) {
        this.root = root;
        this.prefix = prefix == null ? "" : prefix;
    }

    /** A view of a sub-section, e.g. {@code settings.section("minhash")}. */
    public Settings section(String path) {
        return new Settings(root, key(path));
    }

    public String key(String path) {
        return prefix.isEmpty() ? path : prefix + "." + path;
    }

    /** The keys of the object at {@code path}, sorted (e.g. the languages under {@code filter.by-language}). */
    public SortedSet<String> objectKeys(String path) {
        String k = key(path);
        ConfigValue v = value(k);
        if (v.valueType() != ConfigValueType.OBJECT) {
            throw new InvalidConfigException(k, origin(k), "expected an object of sections, got " + describe(v));
        }
        return new TreeSet<>(root.getObject(k).keySet());
    }

    public boolean has(String path) {
        return root.hasPath(key(path));
    }

    public String string(String path) {
        String k = key(path);
        ConfigValue v = value(k);
        if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
            throw new InvalidConfigException(k, origin(k), "expected a string, got " + describe(v));
        }
        return root.getString(k);
    }

    /** A string that must not be blank. */
    public String nonEmpty(String path) {
        String s = string(path);
        if (s.isBlank()) {
            throw new InvalidConfigException(key(path), origin(key(path)), "must not be empty");
        }
        return s;
    }

    /** An optional string: blank or absent gives null. */
    public String optionalString(String path) {
        String k = key(path);
        if (!root.hasPathOrNull(k) || root.getIsNull(k)) {
            return null;
        }
        String s = string(path);
        return s.isBlank() ? null : s;
    }

    public boolean bool(String path) {
        String k = key(path);
        value(k);
        try {
            return root.getBoolean(k);
        } catch (ConfigException.WrongType e) {
            throw new InvalidConfigException(k, origin(k), "expected true or false, got " + describe(root.getValue(k)));
        }
    }

    public long longIn(String path, long min, long max) {
        String k = key(path);
        value(k);
        long n;
        try {
            n = root.getLong(k);
        } catch (ConfigException.WrongType e) {
            throw new InvalidConfigException(k, origin(k), "expected an integer" + range(min, max) + ", got " + describe(root.getValue(k)));
        }
        if (n < min || n > max) {
            throw new InvalidConfigException(k, origin(k), "expected an integer" + range(min, max) + ", got " + n);
        }
        return n;
    }

    public int intIn(String path, int min, int max) {
        return (int) longIn(path, min, max);
    }

    public int positiveInt(String path) {
        return intIn(path, 1, Integer.MAX_VALUE);
    }

    public int nonNegativeInt(String path) {
        return intIn(path, 0, Integer.MAX_VALUE);
    }

    public double doubleIn(String path, double min, double max) {
        String k = key(path);
        value(k);
        double d;
        try {
            d = root.getDouble(k);
        } catch (ConfigException.WrongType e) {
            throw new InvalidConfigException(k, origin(k), "expected a number in [" + min + ", " + max + "], got " + describe(root.getValue(k)));
        }
        if (!(d >= min && d <= max)) {
            throw new InvalidConfigException(k, origin(k), "expected a number in [" + min + ", " + max + "], got " + d);
        }
        return d;
    }

    /** A size such as {@code 64m} or {@code 1g}, in bytes. */
    public long bytes(String path) {
        String k = key(path);
        value(k);
        try {
            return root.getBytes(k);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw new InvalidConfigException(k, origin(k), "expected a size such as 512k, 64m or 1g, got " + describe(root.getValue(k)));
        }
    }

    public List<String> stringList(String path) {
        String k = key(path);
        ConfigValue v = value(k);
        if (v.valueType() == ConfigValueType.STRING) {
            // Accept a single string, or a comma-separated one from the command line (-Dkey=a,b).
            List<String> out = new ArrayList<>();
            for (String part : root.getString(k).split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
            return List.copyOf(out);
        }
        try {
            return List.copyOf(root.getStringList(k));
        } catch (ConfigException.WrongType e) {
            throw new InvalidConfigException(k, origin(k), "expected a list of strings, got " + describe(v));
        }
    }

    /** One of the given choices, case-insensitive; returned in lower case. */
    public String oneOf(String path, String... choices) {
        String s = string(path).trim().toLowerCase(Locale.ROOT);
        for (String c : choices) {
            if (c.equals(s)) {
                return s;
            }
        }
        throw new InvalidConfigException(key(path), origin(key(path)), "expected one of " + String.join(", ", choices) + ", got \"" + s + "\"");
    }

    public <E extends Enum<E>> E enumValue(String path, Class<E> type) {
        String s = string(path).trim();
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s) || e.name().replace('_', '-').equalsIgnoreCase(s)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        throw new InvalidConfigException(key(path), origin(key(path)), "expected one of " + String.join(", ", names) + ", got \"" + s + "\"");
    }

    /** Fails with a message naming the key unless {@code condition} holds. */
    public void require(boolean condition, String path, String expectation) {
        if (!condition) {
            String k = key(path);
            throw new InvalidConfigException(k, root.hasPathOrNull(k) ? origin(k) : null, expectation);
        }
    }

    private ConfigValue value(String k) {
        if (!root.hasPathOrNull(k)) {
            throw new InvalidConfigException(k, null, "missing; every Kiln key has a default in reference.conf, so a conf file must have removed or mistyped its section");
        }
        if (root.getIsNull(k)) {
            throw new InvalidConfigException(k, origin(k), "must not be null");
        }
        return root.getValue(k);
    }

    private String origin(String k) {
        try {
            return KilnConfig.describeOrigin(root.getValue(k).origin());
        } catch (ConfigException e) {
            return null;
        }
    }

    private static String range(long min, long max) {
        if (min == Long.MIN_VALUE && max == Long.MAX_VALUE) {
            return "";
        }
        if (max == Long.MAX_VALUE || max == Integer.MAX_VALUE) {
            return " >= " + min;
        }
        return " in [" + min + ", " + max + "]";
    }

    private static String describe(ConfigValue v) {
        return switch (v.valueType()) {
            case STRING -> "\"" + v.unwrapped() + "\"";
            case OBJECT -> "an object";
            case LIST -> "a list";
            case NULL -> "null";
            default -> String.valueOf(v.unwrapped());
        };
    }
}
