package dev.kiln.tokenize.bpe;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE tokenizer (GPT-2 family): text is split into pre-tokens ({@link PreTokenizer}), each pre-token's
 * UTF-8 bytes start as one token per byte, and merges are applied lowest rank first (leftmost first among equal
 * ranks), exactly as Hugging Face tokenizers' BPE model does.
 *
 * <p><b>Threads.</b> Immutable and safe to share; each thread gets its own scratch buffers and pre-token cache
 * (a {@link ThreadLocal}), so encoding allocates only for the output and for pre-tokens it has not seen.
 *
 * <p><b>Long inputs.</b> Pre-tokens of up to {@value #SHORT_PIECE} bytes merge with a rank array scanned per merge;
 * longer ones (a megabyte of letters without a space) with a heap over a linked list, so time stays
 * {@code O(n log n)} in the length, never quadratic.
 *
 * <p><b>Special tokens in text.</b> {@link #encode(String)} treats text as text: a literal {@code <|endoftext|>} in a
 * document is encoded as the ordinary bytes {@code <}, {@code |}, ... and can never produce the special id, so a
 * document cannot forge a document boundary or a chat-template token. {@link #encodeWithSpecialTokens(String)}
 * maps literal special-token strings to their ids (what Hugging Face tokenizers does for added tokens, and what a
 * fine-tuning template wants); the tokenize job uses it only when configured to.
 *
 * <p><b>Round trip.</b> {@code decode(encode(s)).equals(s)} for every string that is valid UTF-16 (lone surrogates,
 * which no UTF-8 text can hold, encode as U+FFFD).
 */
public final class BpeTokenizer {
    /** Pre-tokens up to this many bytes merge by scanning; longer ones use the heap. */
    static final int SHORT_PIECE = 64;
    /** Pre-tokens longer than this many chars are not cached (rare, and they would crowd the cache). */
    private static final int MAX_CACHED_CHARS = 48;
    private static final int CACHE_SLOTS = 1 << 15;

    /** A special token: its string and id. */
    public record SpecialToken(String content, int id) {
    }

    private final PreTokenizer preTokenizer;
    private final byte[][] tokenBytes;
    private final int[] byteToId;
    private final LongIntMap pairRank;
    private final int[] rankToId;
    private final int[][] merges;
    private final List<SpecialToken> specialTokens;
    private final ThreadLocal<Workspace> workspaces = ThreadLocal.withInitial(Workspace::new);

    /**
     * @param tokenBytes    the bytes of every id (for special tokens, the UTF-8 of their content)
     * @param merges        rank order; each {@code {left, right, merged}} ids, merged bytes = left bytes + right bytes
     * @param specialTokens special tokens (their ids index {@code tokenBytes})
     */
    BpeTokenizer(PreTokenizer preTokenizer, byte[][] tokenBytes, int[][] merges, List<SpecialToken> specialTokens) {
        this.preTokenizer = preTokenizer;
        this.tokenBytes = tokenBytes;
        this.merges = merges;
        this.specialTokens = List.copyOf(specialTokens);
        boolean[] special = new boolean[tokenBytes.length];
        for (SpecialToken s : specialTokens) {
            special[s.id()] = true;
        }
        byteToId = new int[256];
        Arrays.fill(byteToId, -1);
        for (int id = 0; id < tokenBytes.length; id++) {
            if (!special[id] && tokenBytes[id].length == 1) {
                byteToId[tokenBytes[id][0] & 0xFF] = id;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (byteToId[b] < 0) {
                throw new IllegalArgumentException("the vocabulary has no token for byte " + b + ": not a byte-level BPE");
            }
        }
        pairRank = new LongIntMap(merges.length);
        rankToId = new int[merges.length];
        for (int r = 0; r < merges.length; r++) {
            int[] m = merges[r];
            byte[] joined = concat(tokenBytes[m[0]], tokenBytes[m[1]]);
            if (!Arrays.equals(joined, tokenBytes[m[2]])) {
                throw new IllegalArgumentException("merge " + r + " joins tokens " + m[0] + " and " + m[1] + " into " + m[2]
                        + ", whose bytes are not their concatenation");
            }
            long key = LongIntMap.pair(m[0], m[1]);
            if (pairRank.get(key, -1) < 0) {
                pairRank.put(key, r);
            }
            rankToId[r] = m[2];
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    /** Vocabulary size: ids are {@code 0 .. vocabSize()-1}, special tokens included. */
    public int vocabSize() {
        return tokenBytes.length;
    }

    public int mergeCount() {
        return merges.length;
    }

    public List<SpecialToken> specialTokens() {
        return specialTokens;
    }

    /** The id of a special token, e.g. {@code <|endoftext|>}; throws naming the known ones if absent. */
    public int specialTokenId(String content) {
        for (SpecialToken s : specialTokens) {
            if (s.content().equals(content)) {
                return s.id();
            }
        }
        throw new IllegalArgumentException("no special token " + content + "; this tokenizer has " + specialTokens);
    }

    public Map<String, Integer> specialTokenIds() {
        Map<String, Integer> m = new LinkedHashMap<>();
        specialTokens.forEach(s -> m.put(s.content(), s.id()));
        return m;
    }

    /** The bytes token {@code id} stands for (a copy). */
    public byte[] tokenBytes(int id) {
        return tokenBytes[id].clone();
    }

    int[][] merges() {
        return merges;
    }

    byte[][] allTokenBytes() {
        return tokenBytes;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Encoding

    /** Token ids of {@code text}, special-token strings treated as ordinary text. */
    public int[] encode(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        encode(text, out);
        return out.toArray();
    }

    /** Appends the ids of {@code text} to {@code out}; special-token strings are ordinary text. */
    public void encode(String text, IntList out) {
        encodeOrdinary(text, 0, text.length(), out, workspaces.get());
    }

    /** Ids of {@code text} where literal special-token strings become their ids. */
    public int[] encodeWithSpecialTokens(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        encodeWithSpecialTokens(text, out);
        return out.toArray();
    }

    public void encodeWithSpecialTokens(String text, IntList out) {
        Workspace ws = workspaces.get();
        int pos = 0;
        while (pos < text.length()) {
            int best = -1;
            SpecialToken found = null;
            for (SpecialToken s : specialTokens) {
                int at = text.indexOf(s.content(), pos);
                // Earliest match wins; at the same place, the longer token (like HF's longest-match trie).
                if (at >= 0 && (best < 0 || at < best || (at == best && s.content().length() > found.content().length()))) {
                    best = at;
                    found = s;
                }
            }
            if (found == null) {
                break;
            }
            encodeOrdinary(text, pos, best, out, ws);
            out.add(found.id());
            pos = best + found.content().length();
        }
        encodeOrdinary(text, pos, text.length(), out, ws);
    }

    /** Number of tokens {@link #encode(String)} gives, without keeping them. */
    public int count(String text) {
        Workspace ws = workspaces.get();
        ws.countOnly.clear();
        encodeOrdinary(text, 0, text.length(), ws.countOnly, ws);
        int n = ws.countOnly.size();
        ws.countOnly.clear();
        return n;
    }

    private void encodeOrdinary(String text, int from, int to, IntList out, Workspace ws) {
        int i = from;
        while (i < to) {
            int end = preTokenizer.end(text, i, to);
            encodePiece(text, i, end, out, ws);
            i = end;
        }
    }

    private void encodePiece(String text, int start, int end, IntList out, Workspace ws) {
        int len = end - start;
        if (len == 1 && text.charAt(start) < 128) {
            // One ASCII character is one byte token: no lookup needed.
            out.add(byteToId[text.charAt(start)]);
            return;
        }
        if (len <= MAX_CACHED_CHARS) {
            int[] cached = ws.cacheGet(text, start, end);
            if (cached != null) {
                out.addAll(cached, 0, cached.length);
                return;
            }
        }
        int n = utf8(text, start, end, ws);
        int[] syms = ws.syms;
        byte[] bytes = ws.bytes;
        for (int k = 0; k < n; k++) {
            syms[k] = byteToId[bytes[k] & 0xFF];
        }
        int m = n <= SHORT_PIECE ? mergeShort(syms, n, ws) : mergeLong(syms, n, ws);
        if (len <= MAX_CACHED_CHARS) {
            int[] ids = Arrays.copyOf(syms, m);
            ws.cachePut(text.substring(start, end), ids);
            out.addAll(ids, 0, m);
        } else {
            out.addAll(syms, 0, m);
        }
    }

    /** UTF-8 of text[start, end) into ws.bytes; lone surrogates become U+FFFD. Returns the byte count. */
    private static int utf8(String text, int start, int end, Workspace ws) {
        ws.ensure((end - start) * 3);
        byte[] b = ws.bytes;
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                b[n++] = (byte) c;
            } else if (c < 0x800) {
                b[n++] = (byte) (0xC0 | (c >> 6));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                b[n++] = (byte) (0xF0 | (cp >> 18));
                b[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                b[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                b[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                if (Character.isSurrogate(c)) {
                    c = '\uFFFD';
                }
                b[n++] = (byte) (0xE0 | (c >> 12));
                b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return n;
    }

    private int rank(int a, int b) {
        return pairRank.get(LongIntMap.pair(a, b), Integer.MAX_VALUE);
    }

    /** Merges syms[0, n) in place; ranks[i] caches the rank of (syms[i], syms[i+1]). Returns the new length. */
    private int mergeShort(int[] syms, int n, Workspace ws) {
        int[] ranks = ws.ranks;
        for (int i = 0; i + 1 < n; i++) {
            ranks[i] = rank(syms[i], syms[i + 1]);
        }
        while (n > 1) {
            int best = Integer.MAX_VALUE;
            int at = -1;
            for (int i = 0; i + 1 < n; i++) {
                if (ranks[i] < best) {
                    best = ranks[i];
                    at = i;
                }
            }
            if (at < 0) {
                break;
            }
            syms[at] = rankToId[best];
            System.arraycopy(syms, at + 2, syms, at + 1, n - at - 2);
            System.arraycopy(ranks, at + 1, ranks, at, n - at - 2);
            n--;
            if (at > 0) {
                ranks[at - 1] = rank(syms[at - 1], syms[at]);
            }
            if (at + 1 < n) {
                ranks[at] = rank(syms[at], syms[at + 1]);
            }
        }
        return n;
    }

    /**
     * The same merges for long pieces: a doubly linked list over the symbols and a min-heap of (rank, position)
     * candidates, invalidated lazily when a neighbour changed. Positions are original byte offsets, so among equal
     * ranks the leftmost merges first, as in {@link #mergeShort}.
     */
    private int mergeLong(int[] syms, int n, Workspace ws) {
        int[] next = new int[n];
        int[] prev = new int[n];
        long[] heap = new long[Math.max(16, n)];
        int size = 0;
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        for (int i = 0; i + 1 < n; i++) {
            int r = rank(syms[i], syms[i + 1]);
            if (r != Integer.MAX_VALUE) {
                heap = push(heap, size++, ((long) r << 32) | i);
            }
        }
        while (size > 0) {
            long top = heap[0];
            size = pop(heap, size);
            int r = (int) (top >>> 32);
            int i = (int) top;
            int j = next[i];
            // Stale: i was merged into its left neighbour, or its right neighbour changed since the entry was pushed.
            if (syms[i] < 0 || j < 0 || rank(syms[i], syms[j]) != r) {
                continue;
            }
            syms[i] = rankToId[r];
            syms[j] = -1;
            int k = next[j];
            next[i] = k;
            if (k >= 0) {
                prev[k] = i;
                int rr = rank(syms[i], syms[k]);
                if (rr != Integer.MAX_VALUE) {
                    if (size == heap.length) {
                        heap = Arrays.copyOf(heap, size * 2);
                    }
                    heap = push(heap, size++, ((long) rr << 32) | i);
                }
            }
            int p = prev[i];
            if (p >= 0) {
                int rl = rank(syms[p], syms[i]);
                if (rl != Integer.MAX_VALUE) {
                    if (size == heap.length) {
                        heap = Arrays.copyOf(heap, size * 2);
                    }
                    heap = push(heap, size++, ((long) rl << 32) | p);
                }
            }
        }
        int m = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            syms[m++] = syms[i];
        }
        return m;
    }

    private static long[] push(long[] heap, int size, long v) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        int i = size;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= v) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = v;
        return heap;
    }

    private static int pop(long[] heap, int size) {
        long last = heap[--size];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && heap[c + 1] < heap[c]) {
                c++;
            }
            if (heap[c] >= last) {
                break;
            }
            heap[i] = heap[c];
            i = c;
        }
        if (size > 0) {
            heap[i] = last;
        }
        return size;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Decoding

    /** The bytes of the ids, concatenated (special tokens contribute their content's UTF-8). */
    public byte[] decodeBytes(int[] ids) {
        int n = 0;
        for (int id : ids) {
            n += bytesOf(id).length;
        }
        byte[] out = new byte[n];
        int p = 0;
        for (int id : ids) {
            byte[] b = tokenBytes[id];
            System.arraycopy(b, 0, out, p, b.length);
            p += b.length;
        }
        return out;
    }

    /** Text of the ids; byte sequences that are not valid UTF-8 (possible for arbitrary ids) become U+FFFD. */
    public String decode(int[] ids) {
        return new String(decodeBytes(ids), StandardCharsets.UTF_8);
    }

    private byte[] bytesOf(int id) {
        if (id < 0 || id >= tokenBytes.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + tokenBytes.length + ")");
        }
        return tokenBytes[id];
    }

    /** Per-thread scratch space and pre-token cache. */
    private static final class Workspace {
        byte[] bytes = new byte[256];
        int[] syms = new int[256];
        int[] ranks = new int[SHORT_PIECE];
        final IntList countOnly = new IntList(1024);
        final String[] keys = new String[CACHE_SLOTS];
        final int[][] values = new int[CACHE_SLOTS][];
        int used;

        void ensure(int n) {
            if (bytes.length < n) {
                bytes = new byte[Math.max(n, bytes.length * 2)];
                syms = new int[bytes.length];
            }
        }

        private static int hash(String s, int start, int end) {
            int h = 0;
            for (int i = start; i < end; i++) {
                h = 31 * h + s.charAt(i);
            }
            return h ^ (h >>> 15);
        }

        int[] cacheGet(String text, int start, int end) {
            int len = end - start;
            int i = hash(text, start, end) & (CACHE_SLOTS - 1);
            while (true) {
                String k = keys[i];
                if (k == null) {
                    return null;
                }
                if (k.length() == len && k.regionMatches(0, text, start, len)) {
                    return values[i];
                }
                i = (i + 1) & (CACHE_SLOTS - 1);
            }
        }

        void cachePut(String key, int[] ids) {
            if (used * 4 >= CACHE_SLOTS * 3) {
                // Full: start over rather than track recency; frequent pre-tokens come back within a few documents.
                Arrays.fill(keys, null);
                Arrays.fill(values, null);
                used = 0;
            }
            int i = hash(key, 0, key.length()) & (CACHE_SLOTS - 1);
            while (keys[i] != null) {
                if (keys[i].equals(key)) {
                    return;
                }
                i = (i + 1) & (CACHE_SLOTS - 1);
            }
            keys[i] = key;
            values[i] = ids;
            used++;
        }
    }

    /** Lists the merges as strings (for messages and tests). */
    List<String> mergeStrings() {
        List<String> out = new ArrayList<>();
        for (int[] m : merges) {
            out.add(ByteLevel.encode(tokenBytes[m[0]]) + " " + ByteLevel.encode(tokenBytes[m[1]]));
        }
        return out;
    }
}
