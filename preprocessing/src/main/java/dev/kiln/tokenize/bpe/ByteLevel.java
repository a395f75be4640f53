package dev.kiln.tokenize.bpe;

import java.util.Arrays;

/**
 * GPT-2's byte-to-character table (Hugging Face's ByteLevel): every byte maps to one printable character, so
 * vocabulary entries and merges can be written as strings in {@code tokenizer.json}. Printable Latin-1 bytes map
 * to themselves; the others (controls, space, ...) to U+0100 and up, in byte order (space becomes {@code Ġ}).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /** The bytes a vocabulary string stands for; throws naming the string if it is not byte-level. */
    static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                throw new IllegalArgumentException("\"" + token + "\" is not a byte-level token (character U+"
                        + Integer.toHexString(c).toUpperCase() + " maps to no byte)");
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
