package dev.kiln.tokenize.bpe;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * OpenAI's cl100k_base ranks (from the jtokkit jar) loaded into Kiln's encoder with the GPT-4 pre-tokenizer give the
 * same ids as jtokkit, an independent tiktoken implementation, on every SOTU speech and on random Unicode.
 */
class TiktokenIdentityTest {
    @Test
    void kilnEncodesCl100kExactlyLikeJtokkit() throws Exception {
        BpeTokenizer kiln;
        try (InputStream in = Encoding.class.getClassLoader().getResourceAsStream("com/knuddels/jtokkit/cl100k_base.tiktoken")) {
            assertNotNull(in, "cl100k_base.tiktoken in the jtokkit jar");
            kiln = TiktokenRanks.read(in, PreTokenizer.GPT4, "cl100k_base.tiktoken");
        }
        assertEquals(100_256, kiln.vocabSize());
        Encoding jtokkit = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
        for (String speech : TestTexts.sotu()) {
            assertArrayEquals(jtokkit.encodeOrdinary(speech).toArray(), kiln.encode(speech));
        }
        Random r = new Random(99);
        for (int i = 0; i < 3000; i++) {
            String s = TestTexts.randomUnicode(r, 40);
            assertArrayEquals(jtokkit.encodeOrdinary(s).toArray(), kiln.encode(s), () -> PreTokenizerTest.escape(s));
            assertEquals(s, kiln.decode(kiln.encode(s)));
        }
    }
}
