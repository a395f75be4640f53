package dev.kiln.tokenize;

import dev.kiln.common.config.InvalidConfigException;
import dev.kiln.common.config.KilnConfig;
import dev.kiln.tokenize.bpe.PreTokenizer;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizeConfigTest {
    static Map<String, String> base() {
        Map<String, String> o = new HashMap<>();
        o.put("kiln.tokenize.input", "in");
        o.put("kiln.tokenize.output", "out");
        return o;
    }

    @Test
    void defaultsFromReferenceConf() {
        TokenizeConfig c = TokenizeConfig.from(KilnConfig.load(null, base()));
        assertEquals(256, c.contextLength());
        assertEquals(32768, c.vocabSize());
        assertEquals(PreTokenizer.GPT4, c.preTokenizer());
        assertEquals(List.of("<|endoftext|>", "<|pad|>"), c.specialTokens());
        assertEquals("<|endoftext|>", c.endOfText());
        assertFalse(c.specialTokensInText(), "by default a literal special token in a document stays text");
        assertEquals(0.01, c.validationFraction());
    }

    @Test
    void badValuesNameTheKey() {
        Map<String, String> o = base();
        o.put("kiln.tokenize.tokenizer.end-of-text", "<|eot|>");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> TokenizeConfig.from(KilnConfig.load(null, o)));
        assertEquals("kiln.tokenize.tokenizer.end-of-text", e.key());

        Map<String, String> o2 = base();
        o2.put("kiln.tokenize.validation-fraction", "0.9");
        e = assertThrows(InvalidConfigException.class, () -> TokenizeConfig.from(KilnConfig.load(null, o2)));
        assertEquals("kiln.tokenize.validation-fraction", e.key());

        Map<String, String> o3 = base();
        o3.put("kiln.tokenize.tokenizer.vocab-size", "200");
        e = assertThrows(InvalidConfigException.class, () -> TokenizeConfig.from(KilnConfig.load(null, o3)));
        assertTrue(e.getMessage().contains("kiln.tokenize.tokenizer.vocab-size"), e.getMessage());

        Map<String, String> o4 = base();
        o4.remove("kiln.tokenize.input");
        e = assertThrows(InvalidConfigException.class, () -> TokenizeConfig.from(KilnConfig.load(null, o4)));
        assertEquals("kiln.tokenize.input", e.key());

        Map<String, String> o5 = base();
        o5.put("kiln.tokenize.special-tokens-in-text", "maybe");
        e = assertThrows(InvalidConfigException.class, () -> TokenizeConfig.from(KilnConfig.load(null, o5)));
        assertTrue(e.getMessage().contains("expected one of text, special"), e.getMessage());
    }

    @Test
    void theSplitIsAFunctionOfTheDocumentHashAndHonoursTheFraction() {
        // The documented function, pinned: SHA-256 of the hash string, its first 8 bytes as a 53-bit fraction.
        // SHA-256("abc") starts ba7816bf8f01cfea, so unit = 0xba7816bf8f01cfea >>> 11 / 2^53 = 0.72839...
        assertEquals(0x1.74f02d7f1e039p-1, DocumentSplit.unit("abc"));
        assertEquals(0x1.7fb3ad9bff21ap-2, DocumentSplit.unit("0"));
        assertTrue(DocumentSplit.isValidation("abc", 0.73) && !DocumentSplit.isValidation("abc", 0.72));
        assertEquals("validation", DocumentSplit.splitOf("0", 0.375));
        assertEquals("train", DocumentSplit.splitOf("0", 0.374));
        int validation = 0;
        for (int i = 0; i < 20000; i++) {
            String h = Integer.toHexString(i * 7919);
            if (DocumentSplit.isValidation(h, 0.1)) {
                validation++;
                assertTrue(DocumentSplit.isValidation(h, 0.2), "growing the fraction only moves documents into validation");
            }
            assertFalse(DocumentSplit.isValidation(h, 0.0));
        }
        assertTrue(validation > 1800 && validation < 2200, "about 10%: " + validation);
    }
}
