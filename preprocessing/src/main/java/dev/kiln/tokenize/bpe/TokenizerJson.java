package dev.kiln.tokenize.bpe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes Hugging Face's {@code tokenizer.json}: a BPE model (vocab + merges), a byte-level pre-tokenizer
 * (GPT-2: {@code ByteLevel} with its regex; GPT-4: {@code Split} on the cl100k regex, then {@code ByteLevel} without
 * regex) and a {@code ByteLevel} decoder; special tokens as {@code added_tokens}. The Hugging Face {@code tokenizers}
 * library loads the file and encodes identically (proved in the tests through DJL's binding of it).
 *
 * <p>The rendering is deterministic, so the file's SHA-256 identifies the tokenizer in manifests and shards.
 */
public final class TokenizerJson {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private TokenizerJson() {
    }

    public static String write(BpeTokenizer tok) {
        ObjectNode root = F.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (BpeTokenizer.SpecialToken s : tok.specialTokens()) {
            ObjectNode t = added.addObject();
            t.put("id", s.id());
            t.put("content", s.content());
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", preTokenizerNode(tok.preTokenizer()));
        root.putNull("post_processor");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel");
        decoder.put("add_prefix_space", false);
        decoder.put("trim_offsets", true);
        decoder.put("use_regex", true);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        byte[][] bytes = tok.allTokenBytes();
        boolean[] special = new boolean[bytes.length];
        for (BpeTokenizer.SpecialToken s : tok.specialTokens()) {
            special[s.id()] = true;
            // HF lists added tokens in the model vocabulary too (its trainer does); same id, so encoding agrees.
            vocab.put(s.content(), s.id());
        }
        for (int id = 0; id < bytes.length; id++) {
            if (!special[id]) {
                vocab.put(ByteLevel.encode(bytes[id]), id);
            }
        }
        ArrayNode merges = model.putArray("merges");
        for (String m : tok.mergeStrings()) {
            merges.add(m);
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode preTokenizerNode(PreTokenizer p) {
        ObjectNode byteLevel = F.objectNode();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", p == PreTokenizer.GPT2);
        if (p == PreTokenizer.GPT2) {
            return byteLevel;
        }
        ObjectNode seq = F.objectNode();
        seq.put("type", "Sequence");
        ArrayNode list = seq.putArray("pretokenizers");
        ObjectNode split = list.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", p.regex());
        split.put("behavior", "Isolated");
        split.put("invert", false);
        list.add(byteLevel);
        return seq;
    }

    /** Parses a byte-level BPE tokenizer.json (Kiln's, or a compatible Hugging Face one); {@code where} names it in errors. */
    public static BpeTokenizer read(String json, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + " is not JSON: " + e.getMessage(), e);
        }
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new IllegalArgumentException(where + ": model.type must be BPE, got " + model.path("type"));
        }
        if (!root.path("normalizer").isNull() && !root.path("normalizer").isMissingNode()) {
            throw new IllegalArgumentException(where + ": normalizers are not supported, found " + root.path("normalizer"));
        }
        PreTokenizer pre = preTokenizerOf(root.path("pre_tokenizer"), where);

        Map<String, Integer> specialIds = new HashMap<>();
        List<BpeTokenizer.SpecialToken> specials = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            BpeTokenizer.SpecialToken s = new BpeTokenizer.SpecialToken(t.path("content").asText(), t.path("id").asInt());
            specials.add(s);
            specialIds.put(s.content(), s.id());
        }
        JsonNode vocabNode = model.path("vocab");
        int size = vocabNode.size();
        for (BpeTokenizer.SpecialToken s : specials) {
            size = Math.max(size, s.id() + 1);
        }
        byte[][] bytes = new byte[size][];
        Map<String, Integer> vocab = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt();
            if (id < 0 || id >= size) {
                throw new IllegalArgumentException(where + ": vocabulary id " + id + " of \"" + e.getKey() + "\" is out of range (ids must be dense)");
            }
            vocab.put(e.getKey(), id);
            Integer sid = specialIds.get(e.getKey());
            if (sid == null) {
                bytes[id] = decodeToken(e.getKey(), where);
            }
        }
        for (BpeTokenizer.SpecialToken s : specials) {
            bytes[s.id()] = s.content().getBytes(StandardCharsets.UTF_8);
        }
        for (int id = 0; id < size; id++) {
            if (bytes[id] == null) {
                throw new IllegalArgumentException(where + ": no vocabulary entry has id " + id + " (ids must be dense)");
            }
        }
        JsonNode mergesNode = model.path("merges");
        int[][] merges = new int[mergesNode.size()][];
        int r = 0;
        for (JsonNode m : mergesNode) {
            String left;
            String right;
            if (m.isArray()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                String s = m.asText();
                int sp = s.indexOf(' ');
                if (sp <= 0) {
                    throw new IllegalArgumentException(where + ": merge " + r + " \"" + s + "\" is not \"left right\"");
                }
                left = s.substring(0, sp);
                right = s.substring(sp + 1);
            }
            Integer a = vocab.get(left);
            Integer b = vocab.get(right);
            Integer z = vocab.get(left + right);
            if (a == null || b == null || z == null) {
                throw new IllegalArgumentException(where + ": merge " + r + " (" + left + " " + right + ") uses a token missing from the vocabulary");
            }
            merges[r++] = new int[]{a, b, z};
        }
        return new BpeTokenizer(pre, bytes, merges, specials);
    }

    private static byte[] decodeToken(String token, String where) {
        try {
            return ByteLevel.decode(token);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static PreTokenizer preTokenizerOf(JsonNode node, String where) {
        String type = node.path("type").asText();
        if (type.equals("ByteLevel") && node.path("use_regex").asBoolean(true) && !node.path("add_prefix_space").asBoolean(false)) {
            return PreTokenizer.GPT2;
        }
        if (type.equals("Sequence") && node.path("pretokenizers").size() == 2) {
            JsonNode split = node.path("pretokenizers").get(0);
            JsonNode bl = node.path("pretokenizers").get(1);
            if (split.path("type").asText().equals("Split") && split.path("behavior").asText().equals("Isolated")
                    && !split.path("invert").asBoolean(false)
                    && bl.path("type").asText().equals("ByteLevel") && !bl.path("use_regex").asBoolean(true)
                    && !bl.path("add_prefix_space").asBoolean(false)) {
                String regex = split.path("pattern").path("Regex").asText();
                for (PreTokenizer p : PreTokenizer.values()) {
                    if (p.regex().equals(regex)) {
                        return p;
                    }
                }
            }
        }
        throw new IllegalArgumentException(where + ": unsupported pre_tokenizer " + node
                + "; Kiln reads byte-level BPE with the GPT-2 ByteLevel regex or a Split on the GPT-4 (cl100k) regex");
    }
}
