package dev.kiln.preprocess.read;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines (LF or CRLF) without ever holding more than {@code maxBytes} of one line: a longer
 * line is skipped to its end and reported by length, so a 50 MB line costs a scan, not 50 MB (or 100 MB of chars).
 */
final class LineScanner {
    /** One line: its 1-based number, its bytes (null when it was too long) and its full length. */
    record Line(long number, byte[] bytes, int used, long length) {
        boolean tooLong() {
            return bytes == null;
        }
    }

    private final InputStream in;
    private final int maxBytes;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int limit;
    private boolean eof;
    private long lineNumber;

    long lineNumber() {
        return lineNumber;
    }
    private byte[] line = new byte[1024];

    LineScanner(InputStream in, int maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
    }

    /** The next line, or null at the end of the stream. The returned bytes are only valid until the next call. */
    Line next() throws IOException {
        int used = 0;
        long length = 0;
        boolean sawAny = false;
        while (true) {
            if (pos == limit) {
                if (eof || !fill()) {
                    if (!sawAny) {
                        return null;
                    }
                    break;
                }
            }
            sawAny = true;
            int start = pos;
            int nl = -1;
            for (int i = pos; i < limit; i++) {
                if (buf[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            int end = nl < 0 ? limit : nl;
            int chunk = end - start;
            if (length + chunk <= maxBytes) {
                if (used + chunk > line.length) {
                    line = Arrays.copyOf(line, Math.max(used + chunk, Math.min(maxBytes, line.length * 2)));
                }
                System.arraycopy(buf, start, line, used, chunk);
                used += chunk;
            }
            length += chunk;
            pos = nl < 0 ? limit : nl + 1;
            if (nl >= 0) {
                break;
            }
        }
        lineNumber++;
        if (length > maxBytes) {
            // The buffer grew towards max-record-bytes for a line that is skipped anyway: let it go, so a file with
            // one huge line does not hold max-record-bytes for the rest of its reading.
            line = new byte[1024];
            return new Line(lineNumber, null, 0, length);
        }
        if (used > 0 && line[used - 1] == '\r') {
            used--;
        }
        return new Line(lineNumber, line, used, length);
    }

    private boolean fill() throws IOException {
        int n = in.read(buf, 0, buf.length);
        if (n <= 0) {
            eof = true;
            pos = limit = 0;
            return false;
        }
        pos = 0;
        limit = n;
        return true;
    }
}
