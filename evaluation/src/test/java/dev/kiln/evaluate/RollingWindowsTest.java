package dev.kiln.evaluate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The windows are those of lm-evaluation-harness's get_rolling_token_windows(tokens, EOT, T, context_len=1). */
class RollingWindowsTest {
    static final int EOT = 99;

    static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    @Test
    void tenTokensInWindowsOfFour() {
        // Python: list(get_rolling_token_windows(list(range(10)), 99, 4, 1)) ==
        //   [([99, 0, 1, 2], [0, 1, 2, 3]), ([3, 4, 5, 6], [4, 5, 6, 7]), ([5, 6, 7, 8], [8, 9])]
        List<RollingWindows.Window> w = RollingWindows.of(range(10), 4, EOT);
        assertEquals(3, w.size());
        assertArrayEquals(new int[]{EOT, 0, 1, 2}, w.get(0).input());
        assertArrayEquals(new int[]{0, 1, 2, 3}, w.get(0).target());
        assertEquals(0, w.get(0).from());
        assertEquals(4, w.get(0).to());
        assertArrayEquals(new int[]{3, 4, 5, 6}, w.get(1).input());
        assertArrayEquals(new int[]{4, 5, 6, 7}, w.get(1).target());
        // The last window reads the 4 tokens before the end and scores its last 2 positions (targets 8 and 9).
        assertArrayEquals(new int[]{5, 6, 7, 8}, w.get(2).input());
        assertArrayEquals(new int[]{6, 7, 8, 9}, w.get(2).target());
        assertEquals(2, w.get(2).from());
        assertEquals(4, w.get(2).to());
    }

    @Test
    void shortDocumentIsOnePaddedWindow() {
        List<RollingWindows.Window> w = RollingWindows.of(new int[]{7, 8}, 4, EOT);
        assertEquals(1, w.size());
        assertArrayEquals(new int[]{EOT, 7, EOT, EOT}, w.get(0).input());
        assertArrayEquals(new int[]{7, 8, EOT, EOT}, w.get(0).target());
        assertEquals(0, w.get(0).from());
        assertEquals(2, w.get(0).to());
        assertTrue(RollingWindows.of(new int[0], 4, EOT).isEmpty());
    }

    @Test
    void everyTokenIsPredictedOnceWithItsTruePredecessorAsLastContext() {
        for (int t : new int[]{1, 2, 3, 5, 8}) {
            for (int n = 1; n <= 40; n++) {
                int[] doc = range(n);
                List<Integer> predicted = new ArrayList<>();
                for (RollingWindows.Window w : RollingWindows.of(doc, t, EOT)) {
                    assertEquals(t, w.input().length);
                    for (int j = w.from(); j < w.to(); j++) {
                        int target = w.target()[j];
                        predicted.add(target);
                        assertEquals(target == 0 ? EOT : target - 1, w.input()[j], "the token right before " + target);
                        // A window's input is contiguous in the document: position j sees the j tokens before it too.
                        for (int k = 0; k < j; k++) {
                            int expected = target - (j - k) - 1;
                            assertEquals(expected < 0 ? EOT : expected, w.input()[k]);
                        }
                    }
                }
                List<Integer> all = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    all.add(i);
                }
                assertEquals(all, predicted, "T=" + t + ", n=" + n);
            }
        }
    }
}
