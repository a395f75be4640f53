package dev.kiln.preprocess.lang;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.preprocess.lang.Words.Segmentation.DICTIONARY;
import static dev.kiln.preprocess.lang.Words.Segmentation.SPACED;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Words on tricky text: mixed Chinese, English and numbers, full-width punctuation, traditional characters, Thai. */
class WordsTest {
    private static List<String> words(String text) {
        return Words.of(text, Words.segmentationOf(text));
    }

    @Test
    void spacedTextKeepsWhitespaceTokensWithTheirPunctuation() {
        String en = "The  Congress, in 1790, met.\nIt adjourned...";
        assertEquals(SPACED, Words.segmentationOf(en));
        assertEquals(List.of("The", "Congress,", "in", "1790,", "met.", "It", "adjourned..."), words(en));
        // Korean separates words by spaces: whitespace tokens too.
        assertEquals(SPACED, Words.segmentationOf("대한민국의 수도는 서울입니다."));
    }

    @Test
    void chineseIsSegmentedWithTheDictionaryAndPunctuationIsNoWord() {
        String zh = "中华人民共和国成立于1949年。我们使用Apache Spark处理数据，速度很快！";
        assertEquals(DICTIONARY, Words.segmentationOf(zh));
        assertEquals(List.of("中华", "人民", "共和国", "成立", "于", "1949", "年", "我们", "使用", "Apache", "Spark", "处理", "数据", "速度", "很快"),
                words(zh));
        // Traditional characters, full-width punctuation and a full-width digit run (as before NFKC).
        assertEquals(List.of("秦", "川", "雄", "帝", "宅", "函", "谷", "壯", "皇居"), words("秦川雄帝宅，函谷壯皇居。"));
        assertEquals(List.of("价格", "是", "１２３", "元"), words("价格是１２３元！"));
    }

    @Test
    void japaneseAndThaiAreSegmentedToo() {
        assertEquals(List.of("東京", "都", "に", "住", "んで", "い", "ます"), words("東京都に住んでいます。"));
        assertEquals(List.of("ภาษา", "ไทย", "ง่าย", "นิด", "เดียว"), words("ภาษาไทยง่ายนิดเดียว"));
    }

    @Test
    void aFewChineseCharactersInEnglishTextLeaveItSpaced() {
        // 2 Han letters among 40 Latin ones: 5% < 10%.
        String mixed = "The restaurant on Main Street is called 北京 and it is open";
        assertEquals(SPACED, Words.segmentationOf(mixed));
        assertEquals(DICTIONARY, Words.segmentationOf("Kiln 的文档说明了如何预处理数据"));
    }

    @Test
    void shingleTokensOfChineseIgnorePunctuationAndSpacing() {
        Words.Tokens x = Words.shingleTokens("床前明月光，疑是地上霜。");
        Words.Tokens y = Words.shingleTokens("床前明月光 疑是地上霜");
        assertEquals(DICTIONARY, x.segmentation());
        assertEquals(x.count(), y.count());
        assertEquals(Arrays.toString(Arrays.copyOf(x.hashes(), x.count())),
                Arrays.toString(Arrays.copyOf(y.hashes(), y.count())));
    }
}
