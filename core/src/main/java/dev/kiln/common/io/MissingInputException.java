package dev.kiln.common.io;

import java.io.IOException;

/**
 * A stage's input is not there (a glob that matches nothing, a missing folder or manifest). A scheduler can wait for
 * the upstream stage and retry; the message names the key and the path.
 */
public final class MissingInputException extends IOException {
    public MissingInputException(String message) {
        super(message);
    }
}
