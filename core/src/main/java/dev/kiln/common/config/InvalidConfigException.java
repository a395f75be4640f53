package dev.kiln.common.config;

/**
 * A configuration value is missing, malformed or out of range. The message always names the key, where the value
 * came from (file and line, or the command line) and what was expected, so a user can fix it without reading code.
 * Thrown before any SparkSession is created.
 */
public final class InvalidConfigException extends RuntimeException {
    private final String key;

    public InvalidConfigException(String key, String origin, String problem) {
        super("Invalid configuration: " + key + (origin == null || origin.isBlank() ? "" : " (" + origin + ")") + ": " + problem);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
