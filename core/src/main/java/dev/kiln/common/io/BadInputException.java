package dev.kiln.common.io;

/**
 * The input is there but too much of it is unusable (e.g. more quarantined files than a configured fraction): a
 * retry will not help, someone has to look at the data. The message names the threshold's key and the counts.
 */
public final class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }
}
