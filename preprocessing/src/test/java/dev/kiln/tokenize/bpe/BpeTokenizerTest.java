package dev.kiln.tokenize.bpe;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTokenizerTest {
    static final List<String> SPECIALS = List.of("<|endoftext|>", "<|pad|>");
    static BpeTokenizer gpt4;
    static BpeTokenizer gpt2;

    @BeforeAll
    static void train() {
        List<String> corpus = TestTexts.sotu().subList(0, 60);
        gpt4 = BpeTrainer.train(PreTokenCounts.count(PreTokenizer.GPT4, corpus.iterator()), PreTokenizer.GPT4, 2000, SPECIALS, 2, null);
        gpt2 = BpeTrainer.train(PreTokenCounts.count(PreTokenizer.GPT2, corpus.iterator()), PreTokenizer.GPT2, 1500, SPECIALS, 2, null);
    }

    @Test
    void vocabularyLayoutIsSpecialsThenBytesThenMerges() {
        assertEquals(2000, gpt4.vocabSize());
        assertEquals(0, gpt4.specialTokenId("<|endoftext|>"));
        assertEquals(1, gpt4.specialTokenId("<|pad|>"));
        assertArrayEquals(new byte[]{0}, gpt4.tokenBytes(2));
        assertArrayEquals(new byte[]{(byte) 255}, gpt4.tokenBytes(257));
        assertEquals(2000 - 258, gpt4.mergeCount());
        // The most frequent English pre-token pieces are single tokens after training.
        assertEquals(1, gpt4.encode(" the").length);
        assertEquals(1, gpt4.encode(" Congress").length);
    }

    @Test
    void decodeOfEncodeIsTheIdentityOnRandomUnicode() {
        Random r = new Random(2024);
        for (BpeTokenizer tok : List.of(gpt4, gpt2)) {
            for (int i = 0; i < 4000; i++) {
                String s = TestTexts.randomUnicode(r, 40);
                int[] ids = tok.encode(s);
                assertEquals(s, tok.decode(ids), () -> "round trip of " + PreTokenizerTest.escape(s));
                assertEquals(ids.length, tok.count(s));
                assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), tok.decodeBytes(ids));
            }
            for (String speech : TestTexts.sotu().subList(100, 110)) {
                assertEquals(speech, tok.decode(tok.encode(speech)));
            }
        }
    }

    @Test
    void loneSurrogatesEncodeAsReplacementCharacters() {
        String s = "a\uD800b\uDC00c";
        assertEquals("a\uFFFDb\uFFFDc", gpt4.decode(gpt4.encode(s)));
    }

    @Test
    void aLiteralSpecialTokenInTextStaysTextUnlessAllowed() {
        String s = "end of one document<|endoftext|>start of <|pad|>another";
        int[] plain = gpt4.encode(s);
        for (int id : plain) {
            assertFalse(id == 0 || id == 1, "special id " + id + " injected from raw text");
        }
        assertEquals(s, gpt4.decode(plain));
        int[] allowed = gpt4.encodeWithSpecialTokens(s);
        assertEquals(1, Arrays.stream(allowed).filter(id -> id == 0).count());
        assertEquals(1, Arrays.stream(allowed).filter(id -> id == 1).count());
        assertEquals(s, gpt4.decode(allowed));
        int[] expected = concat(gpt4.encode("end of one document"), new int[]{0}, gpt4.encode("start of "), new int[]{1}, gpt4.encode("another"));
        assertArrayEquals(expected, allowed);
    }

    @Test
    void longPiecesMergeLikeShortOnesAndStayLinear() {
        // A piece longer than SHORT_PIECE takes the heap path; splitting the same bytes into pre-tokens is not
        // possible, so compare against the same piece padded into many short identical copies instead.
        String word = "representatives";
        String longWord = word.repeat(40); // one letter run of 600 bytes: one pre-token
        int[] ids = gpt4.encode(longWord);
        assertEquals(longWord, gpt4.decode(ids));
        // Merge-by-merge equivalence of the two algorithms on random byte strings.
        Random r = new Random(5);
        for (int i = 0; i < 300; i++) {
            StringBuilder sb = new StringBuilder();
            int n = BpeTokenizer.SHORT_PIECE + 1 + r.nextInt(200);
            String letters = "etaoinshrdlu";
            for (int k = 0; k < n; k++) {
                sb.append(letters.charAt(r.nextInt(letters.length())));
            }
            String piece = sb.toString();
            int[] viaHeap = gpt4.encode(piece);
            // Re-encode through the short path: feed the piece in one go to a fresh reference BPE.
            assertArrayEquals(referenceBpe(gpt4, piece.getBytes(StandardCharsets.UTF_8)), viaHeap, piece);
        }
        // Millions of characters in one pre-token and in one document: completes, round-trips.
        String huge = "a".repeat(2_000_000);
        assertEquals(huge, gpt4.decode(gpt4.encode(huge)));
        String doc = String.join(" ", TestTexts.sotu().subList(0, 60));
        assertTrue(doc.length() > 1_000_000, "length " + doc.length());
        assertEquals(doc, gpt4.decode(gpt4.encode(doc)));
    }

    @Test
    void encodingIsThreadSafe() throws Exception {
        List<String> speeches = TestTexts.sotu().subList(150, 170);
        List<int[]> expected = speeches.stream().map(gpt4::encode).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int shift = t;
                results.add(pool.submit(() -> {
                    BpeTokenizer fresh = gpt4;
                    for (int i = 0; i < speeches.size(); i++) {
                        int k = (i + shift) % speeches.size();
                        if (!Arrays.equals(expected.get(k), fresh.encode(speeches.get(k)))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void tokenizerJsonRoundTripsExactly() {
        for (BpeTokenizer tok : List.of(gpt4, gpt2)) {
            String json = TokenizerJson.write(tok);
            BpeTokenizer back = TokenizerJson.read(json, "test");
            assertEquals(json, TokenizerJson.write(back));
            assertEquals(tok.preTokenizer(), back.preTokenizer());
            String text = TestTexts.sotu().get(200);
            assertArrayEquals(tok.encode(text), back.encode(text));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenizerJson.read("{\"model\":{\"type\":\"WordPiece\"}}", "x/tokenizer.json"));
        assertTrue(e.getMessage().startsWith("x/tokenizer.json: model.type must be BPE"), e.getMessage());
    }

    @Test
    void incrementalTrainingLearnsTheSameMergesAsAFullRecountPerMerge() {
        List<String> corpus = TestTexts.sotu().subList(0, 8);
        Map<String, Long> counts = PreTokenCounts.count(PreTokenizer.GPT4, corpus.iterator());
        BpeTokenizer fast = BpeTrainer.train(counts, PreTokenizer.GPT4, 258 + 400, SPECIALS, 2, null);
        List<String> reference = naiveMerges(counts, 400, 2);
        assertEquals(reference, fast.mergeStrings());
    }

    /** Textbook BPE: recount every pair over every word before each merge. */
    static List<String> naiveMerges(Map<String, Long> counts, int merges, int minFrequency) {
        List<List<String>> words = new ArrayList<>();
        List<Long> freq = new ArrayList<>();
        List<String> keys = new ArrayList<>(counts.keySet());
        keys.sort(null);
        Map<String, Integer> id = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            id.put(String.valueOf(ByteLevel.charOf(b)), 2 + b);
        }
        for (String k : keys) {
            List<String> w = new ArrayList<>();
            for (byte b : k.getBytes(StandardCharsets.UTF_8)) {
                w.add(String.valueOf(ByteLevel.charOf(b)));
            }
            words.add(w);
            freq.add(counts.get(k));
        }
        List<String> out = new ArrayList<>();
        for (int m = 0; m < merges; m++) {
            Map<String, Long> pairCounts = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    pairCounts.merge(s.get(i) + " " + s.get(i + 1), freq.get(w), Long::sum);
                }
            }
            String best = null;
            long bestCount = 0;
            for (Map.Entry<String, Long> e : pairCounts.entrySet()) {
                String[] ab = e.getKey().split(" ");
                long key = ((long) id.get(ab[0]) << 32) | id.get(ab[1]);
                long bestKey = best == null ? Long.MAX_VALUE : ((long) id.get(best.split(" ")[0]) << 32) | id.get(best.split(" ")[1]);
                if (e.getValue() > bestCount || (e.getValue() == bestCount && key < bestKey)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null || bestCount < minFrequency) {
                break;
            }
            String[] ab = best.split(" ");
            id.put(ab[0] + ab[1], 258 + m);
            out.add(best);
            for (List<String> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(ab[0]) && s.get(i + 1).equals(ab[1])) {
                        s.set(i, ab[0] + ab[1]);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return out;
    }

    /** Textbook BPE encoding of one piece: apply the lowest-rank merge (leftmost first) until none applies. */
    static int[] referenceBpe(BpeTokenizer tok, byte[] bytes) {
        Map<Long, Integer> rank = new HashMap<>();
        int[][] merges = tok.merges();
        for (int r = merges.length - 1; r >= 0; r--) {
            rank.put(((long) merges[r][0] << 32) | merges[r][1], r);
        }
        List<Integer> syms = new ArrayList<>();
        for (byte b : bytes) {
            syms.add(2 + (b & 0xFF));
        }
        while (true) {
            int best = Integer.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 1 < syms.size(); i++) {
                Integer r = rank.get(((long) syms.get(i) << 32) | syms.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            syms.set(at, merges[best][2]);
            syms.remove(at + 1);
        }
        return syms.stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }
}
