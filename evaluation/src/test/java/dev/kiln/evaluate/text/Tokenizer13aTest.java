package dev.kiln.evaluate.text;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected outputs follow the four substitutions of sacreBLEU's tokenizer_13a.py, applied by hand. */
class Tokenizer13aTest {
    @Test
    void punctuationIsSplitOffExceptApostrophesAndInnerHyphens() {
        assertEquals("Hello , world !", Tokenizer13a.tokenize("Hello, world!"));
        assertEquals("It wasn't surprising .", Tokenizer13a.tokenize("It wasn't surprising."));
        assertEquals("state-of-the-art ( really ) ?", Tokenizer13a.tokenize("state-of-the-art (really)?"));
        assertEquals("a / b : c ; d @ e # f $ g % h & i * j + k < l = m > n [ o ] p ^ q _ r ` s { t | u } v ~",
                Tokenizer13a.tokenize("a/b:c;d@e#f$g%h&i*j+k<l=m>n[o]p^q_r`s{t|u}v~"));
    }

    @Test
    void numbersKeepTheirPeriodsAndCommas() {
        assertEquals("3.5 and 1,000 .", Tokenizer13a.tokenize("3.5 and 1,000."));
        assertEquals("pages 5 - 6", Tokenizer13a.tokenize("pages 5-6"));
        assertEquals("x-1", Tokenizer13a.tokenize("x-1"));
        assertEquals(". 5", Tokenizer13a.tokenize(".5"), "a period before a digit but after the padding space is split");
        assertEquals("end . Start", Tokenizer13a.tokenize("end.Start"));
    }

    @Test
    void entitiesLineBreaksAndSkipped() {
        assertEquals("\" quoted \" & < tag >", Tokenizer13a.tokenize("&quot;quoted&quot; &amp; &lt;tag&gt;"));
        assertEquals("hyphenated word", Tokenizer13a.tokenize("hyphen-\nated <skipped>word"));
        assertEquals("two lines", Tokenizer13a.tokenize("two\nlines"));
        assertEquals("no-break space", Tokenizer13a.tokenize("no-break\u00a0space"));
        assertEquals("", Tokenizer13a.tokenize("   "));
    }
}
