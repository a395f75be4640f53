package dev.kiln.preprocess.read;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding that says where the first invalid byte is, instead of silently inserting U+FFFD. */
final class Utf8 {
    private Utf8() {
    }

    /** Thrown with the byte offset of the first malformed sequence. */
    static final class InvalidUtf8Exception extends CharacterCodingException {
        final long offset;

        InvalidUtf8Exception(long offset) {
            this.offset = offset;
        }

        @Override
        public String getMessage() {
            return "invalid UTF-8 at byte " + offset;
        }
    }

    static String decode(byte[] bytes, int offset, int length) throws InvalidUtf8Exception {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
        // Skip a byte-order mark.
        if (length >= 3 && (bytes[offset] & 0xFF) == 0xEF && (bytes[offset + 1] & 0xFF) == 0xBB && (bytes[offset + 2] & 0xFF) == 0xBF) {
            in.position(offset + 3);
        }
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult r = dec.decode(in, out, true);
        if (r.isError()) {
            throw new InvalidUtf8Exception(in.position() - offset);
        }
        r = dec.flush(out);
        if (r.isError()) {
            throw new InvalidUtf8Exception(in.position() - offset);
        }
        out.flip();
        return out.toString();
    }

    static boolean isValid(byte[] bytes) {
        try {
            decode(bytes, 0, bytes.length);
            return true;
        } catch (InvalidUtf8Exception e) {
            return false;
        }
    }
}
