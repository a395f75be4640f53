package dev.kiln.common.io;

/**
 * The input was read but cleaning and the filters removed all of it, or more than a configured fraction: the run
 * would publish an empty or nearly empty output that looks like a success. A retry will not help; someone has to look
 * at the drop reasons the message lists (wrong language, thresholds that do not fit the data, wrong text field).
 */
public final class DroppedInputException extends RuntimeException {
    public DroppedInputException(String message) {
        super(message);
    }
}
