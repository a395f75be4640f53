package dev.kiln.tokenize.bpe;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Learns byte-level BPE merges from pre-token counts (the driver's half of tokenizer training; the counts come from
 * the executors, see {@link PreTokenCounts}).
 *
 * <p>Incremental pair counting, as in Hugging Face's trainer and Sennrich et al.: pair counts and, per pair, the
 * words containing it are built once; each merge then touches only the words that contain the merged pair, updating
 * the counts of the pairs around each occurrence. A max-heap keyed by (count, pair) gives the next merge; entries
 * whose count went stale are re-pushed with the current count when they surface. Cost per merge is proportional to
 * the occurrences of that pair, not to the corpus.
 *
 * <p>Ties (equal counts) go to the smaller (left id, right id), so training is deterministic. Ids: special tokens
 * first (in the given order), then the 256 bytes in byte order, then merges in the order they were learned.
 */
public final class BpeTrainer {
    private BpeTrainer() {
    }

    /**
     * @param counts       pre-token -> occurrences in the corpus
     * @param vocabSize    target size, special tokens and the 256 bytes included
     * @param minFrequency stop early when the best pair occurs fewer times than this
     * @param progress     called with the number of merges learned so far (every 1,000), may be null
     */
    public static BpeTokenizer train(Map<String, Long> counts, PreTokenizer preTokenizer, int vocabSize, List<String> specialTokens,
                                     int minFrequency, IntConsumer progress) {
        // 1. The base vocabulary: special tokens, then the 256 bytes.
        List<byte[]> tokenBytes = new ArrayList<>(vocabSize);
        List<BpeTokenizer.SpecialToken> specials = baseVocabulary(specialTokens, vocabSize, tokenBytes);
        // 2. The words to merge in, and the pairs they hold, counted once.
        Merging merging = new Merging(WordTable.of(counts, specialTokens.size()));
        // 3. Merges, most frequent pair first, until the vocabulary is full or no pair is frequent enough.
        List<int[]> merges = new ArrayList<>();
        while (tokenBytes.size() < vocabSize) {
            long key = merging.nextPair(minFrequency);
            if (key < 0) {
                break;
            }
            int a = (int) (key >>> 32);
            int b = (int) key;
            int z = tokenBytes.size();
            tokenBytes.add(BpeTokenizer.concat(tokenBytes.get(a), tokenBytes.get(b)));
            merges.add(new int[]{a, b, z});
            merging.merge(a, b, z, merges.size() - 1);
            if (progress != null && merges.size() % 1000 == 0) {
                progress.accept(merges.size());
            }
        }
        return new BpeTokenizer(preTokenizer, tokenBytes.toArray(new byte[0][]), merges.toArray(new int[0][]), specials);
    }

    /** Adds the special tokens (in the given order) and the 256 bytes (in byte order) to {@code tokenBytes}. */
    private static List<BpeTokenizer.SpecialToken> baseVocabulary(List<String> specialTokens, int vocabSize,
                                                                  List<byte[]> tokenBytes) {
        int base = specialTokens.size() + 256;
        if (vocabSize < base) {
            throw new IllegalArgumentException("vocabulary size " + vocabSize + " is smaller than the " + specialTokens.size()
                    + " special tokens plus 256 bytes");
        }
        List<BpeTokenizer.SpecialToken> specials = new ArrayList<>();
        for (String s : specialTokens) {
            if (specials.stream().anyMatch(x -> x.content().equals(s))) {
                throw new IllegalArgumentException("special token " + s + " is listed twice");
            }
            specials.add(new BpeTokenizer.SpecialToken(s, tokenBytes.size()));
            tokenBytes.add(s.getBytes(StandardCharsets.UTF_8));
        }
        for (int b = 0; b < 256; b++) {
            tokenBytes.add(new byte[]{(byte) b});
        }
        return specials;
    }

    /**
     * Each distinct pre-token of two or more bytes as a symbol sequence ({@code symbols[w][0 .. lengths[w]-1]}, ids),
     * with its count. Sorted, so the result does not depend on the map's iteration order.
     */
    private record WordTable(int[][] symbols, int[] lengths, long[] counts, int size) {
        static WordTable of(Map<String, Long> counts, int byteBase) {
            List<String> keys = new ArrayList<>(counts.keySet());
            keys.sort(null);
            int[][] words = new int[keys.size()][];
            int[] lens = new int[keys.size()];
            long[] wordCount = new long[keys.size()];
            int nWords = 0;
            for (String k : keys) {
                byte[] b = k.getBytes(StandardCharsets.UTF_8);
                if (b.length < 2) {
                    continue;
                }
                int[] w = new int[b.length];
                for (int i = 0; i < b.length; i++) {
                    w[i] = byteBase + (b[i] & 0xFF);
                }
                words[nWords] = w;
                lens[nWords] = b.length;
                wordCount[nWords] = counts.get(k);
                nWords++;
            }
            return new WordTable(words, lens, wordCount, nWords);
        }
    }

    /** The merge loop's state: pair counts, the words holding each pair, and the heap that picks the next merge. */
    private static final class Merging {
        private final WordTable words;
        private final Pairs pairs = new Pairs();
        private final PairHeap heap = new PairHeap();
        private final int[] visited;                     // per word: the last merge that rewrote it
        private final IntList touched = new IntList();   // pairs whose count changed in this merge
        private boolean[] isTouched = new boolean[0];

        Merging(WordTable words) {
            this.words = words;
            for (int w = 0; w < words.size(); w++) {
                int[] sym = words.symbols()[w];
                for (int i = 0; i + 1 < words.lengths()[w]; i++) {
                    int p = pairs.index(sym[i], sym[i + 1]);
                    pairs.count[p] += words.counts()[w];
                    pairs.addWord(p, w);
                }
            }
            for (int p = 0; p < pairs.size; p++) {
                heap.push(pairs.count[p], pairs.key[p]);
            }
            visited = new int[words.size()];
            Arrays.fill(visited, -1);
        }

        /** The most frequent pair's key (ties: the smaller key), or -1 when none occurs {@code minFrequency} times. */
        long nextPair(int minFrequency) {
            while (heap.size > 0) {
                long count = heap.topCount();
                long key = heap.topKey();
                heap.pop();
                int p = pairs.indexOf(key);
                if (pairs.count[p] != count) {
                    // Stale entry: the pair's count changed since it was pushed.
                    if (pairs.count[p] > 0) {
                        heap.push(pairs.count[p], key);
                    }
                    continue;
                }
                return count < minFrequency || count <= 0 ? -1 : key;
            }
            return -1;
        }

        /** Replaces (a, b) by z in every word holding it; only those words' pairs are recounted. */
        void merge(int a, int b, int z, int mergeNo) {
            int p = pairs.indexOf(LongIntMap.pair(a, b));
            if (isTouched.length < pairs.size + 1024) {
                isTouched = Arrays.copyOf(isTouched, (pairs.size + 1024) * 2);
            }
            IntList where = pairs.words[p];
            int nWhere = where.size();
            for (int t = 0; t < nWhere; t++) {
                int w = where.get(t);
                if (visited[w] != mergeNo) {
                    visited[w] = mergeNo;
                    rewrite(w, a, b, z);
                }
            }
            // The merged pair is gone everywhere; free its word list.
            pairs.words[p] = new IntList(1);
            for (int t = 0; t < touched.size(); t++) {
                int q = touched.get(t);
                isTouched[q] = false;
                if (pairs.count[q] > 0) {
                    heap.push(pairs.count[q], pairs.key[q]);
                }
            }
            touched.clear();
        }

        /** Removes word w's pairs, merges (a, b) into z in it, and adds its new pairs. */
        private void rewrite(int w, int a, int b, int z) {
            int[] sym = words.symbols()[w];
            int len = words.lengths()[w];
            if (!contains(sym, len, a, b)) {
                return;
            }
            long c = words.counts()[w];
            for (int i = 0; i + 1 < len; i++) {
                pairs.count[pairs.indexOf(LongIntMap.pair(sym[i], sym[i + 1]))] -= c;
            }
            int n = 0;
            for (int i = 0; i < len; i++) {
                if (i + 1 < len && sym[i] == a && sym[i + 1] == b) {
                    sym[n++] = z;
                    i++;
                } else {
                    sym[n++] = sym[i];
                }
            }
            words.lengths()[w] = n;
            for (int i = 0; i + 1 < n; i++) {
                int q = pairs.index(sym[i], sym[i + 1]);
                pairs.count[q] += c;
                if (sym[i] == z || sym[i + 1] == z) {
                    pairs.addWord(q, w);
                    if (q >= isTouched.length) {
                        isTouched = Arrays.copyOf(isTouched, (q + 1) * 2);
                    }
                    if (!isTouched[q]) {
                        isTouched[q] = true;
                        touched.add(q);
                    }
                }
            }
        }
    }

    private static boolean contains(int[] sym, int len, int a, int b) {
        for (int i = 0; i + 1 < len; i++) {
            if (sym[i] == a && sym[i + 1] == b) {
                return true;
            }
        }
        return false;
    }

    /** Pair table: key -> dense index, with counts and the words that (may) hold each pair. */
    private static final class Pairs {
        final LongIntMap index = new LongIntMap(1 << 16);
        long[] key = new long[1 << 16];
        long[] count = new long[1 << 16];
        IntList[] words = new IntList[1 << 16];
        int size;

        int index(int a, int b) {
            long k = LongIntMap.pair(a, b);
            int i = index.get(k, -1);
            if (i >= 0) {
                return i;
            }
            if (size == key.length) {
                key = Arrays.copyOf(key, size * 2);
                count = Arrays.copyOf(count, size * 2);
                words = Arrays.copyOf(words, size * 2);
            }
            i = size++;
            key[i] = k;
            words[i] = new IntList(4);
            index.put(k, i);
            return i;
        }

        int indexOf(long k) {
            return index.get(k, -1);
        }

        void addWord(int p, int w) {
            IntList l = words[p];
            // Consecutive duplicates are common (a pair twice in one word); skip them cheaply.
            if (l.size() == 0 || l.get(l.size() - 1) != w) {
                l.add(w);
            }
        }
    }

    /** Max-heap of (count, pair key); ties go to the smaller key. */
    private static final class PairHeap {
        long[] counts = new long[1 << 16];
        long[] keys = new long[1 << 16];
        int size;

        private boolean before(long c1, long k1, long c2, long k2) {
            return c1 > c2 || (c1 == c2 && k1 < k2);
        }

        void push(long c, long k) {
            if (size == counts.length) {
                counts = Arrays.copyOf(counts, size * 2);
                keys = Arrays.copyOf(keys, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!before(c, k, counts[parent], keys[parent])) {
                    break;
                }
                counts[i] = counts[parent];
                keys[i] = keys[parent];
                i = parent;
            }
            counts[i] = c;
            keys[i] = k;
        }

        long topCount() {
            return counts[0];
        }

        long topKey() {
            return keys[0];
        }

        void pop() {
            size--;
            long c = counts[size];
            long k = keys[size];
            int i = 0;
            while (true) {
                int ch = 2 * i + 1;
                if (ch >= size) {
                    break;
                }
                if (ch + 1 < size && before(counts[ch + 1], keys[ch + 1], counts[ch], keys[ch])) {
                    ch++;
                }
                if (!before(counts[ch], keys[ch], c, k)) {
                    break;
                }
                counts[i] = counts[ch];
                keys[i] = keys[ch];
                i = ch;
            }
            if (size > 0) {
                counts[i] = c;
                keys[i] = k;
            }
        }
    }
}
