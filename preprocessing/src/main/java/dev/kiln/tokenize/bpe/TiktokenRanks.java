package dev.kiln.tokenize.bpe;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a tiktoken rank file ({@code base64(token bytes) rank} per line, e.g. OpenAI's cl100k_base) as a Kiln
 * {@link BpeTokenizer}, so an existing vocabulary can be used and saved as tokenizer.json.
 *
 * <p>tiktoken ranks tokens, not merges: it repeatedly joins the adjacent pair whose concatenation has the lowest rank.
 * The equivalent merge list is recovered the way Hugging Face converts these files: each multi-byte token's bytes are
 * merged using only lower-ranked tokens until two parts remain; those two parts are its merge, at the token's rank.
 */
public final class TiktokenRanks {
    private TiktokenRanks() {
    }

    public static BpeTokenizer read(InputStream in, PreTokenizer pre, String where) throws IOException {
        List<byte[]> tokens = new ArrayList<>();
        Map<String, Integer> rank = new HashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                int sp = line.indexOf(' ');
                if (sp <= 0) {
                    throw new IllegalArgumentException(where + ":" + lineNo + ": expected \"base64 rank\", got \"" + line + "\"");
                }
                byte[] b = Base64.getDecoder().decode(line.substring(0, sp));
                int id = Integer.parseInt(line.substring(sp + 1).trim());
                if (id != tokens.size()) {
                    throw new IllegalArgumentException(where + ":" + lineNo + ": ranks must be dense and ascending; expected " + tokens.size() + ", got " + id);
                }
                tokens.add(b);
                rank.put(key(b), id);
            }
        }
        List<int[]> merges = new ArrayList<>();
        for (int id = 0; id < tokens.size(); id++) {
            byte[] t = tokens.get(id);
            if (t.length < 2) {
                continue;
            }
            List<byte[]> parts = new ArrayList<>();
            for (byte x : t) {
                parts.add(new byte[]{x});
            }
            // Merge with tokens ranked below this one only, lowest-ranked join first, until none applies.
            while (parts.size() > 2) {
                int best = Integer.MAX_VALUE;
                int at = -1;
                for (int i = 0; i + 1 < parts.size(); i++) {
                    Integer rr = rank.get(key(BpeTokenizer.concat(parts.get(i), parts.get(i + 1))));
                    if (rr != null && rr < id && rr < best) {
                        best = rr;
                        at = i;
                    }
                }
                if (at < 0) {
                    break;
                }
                parts.set(at, BpeTokenizer.concat(parts.get(at), parts.get(at + 1)));
                parts.remove(at + 1);
            }
            if (parts.size() != 2) {
                throw new IllegalArgumentException(where + ": token of rank " + id + " cannot be built from two lower-ranked tokens");
            }
            merges.add(new int[]{rank.get(key(parts.get(0))), rank.get(key(parts.get(1))), id});
        }
        return new BpeTokenizer(pre, tokens.toArray(new byte[0][]), merges.toArray(new int[0][]), List.of());
    }

    private static String key(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
