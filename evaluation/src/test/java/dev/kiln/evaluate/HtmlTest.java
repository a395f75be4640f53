package dev.kiln.evaluate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The escaping every data string of report.html goes through. */
class HtmlTest {
    static final String ATTACK = "</script><script>alert(1)</script>";
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void textEscapesMarkupAndQuotes() {
        assertEquals("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;", Html.text(ATTACK));
        assertEquals("a &amp; b &quot;c&quot; &#39;d&#39;", Html.text("a & b \"c\" 'd'"));
        assertEquals("&amp;lt;", Html.text("&lt;"), "an existing reference is text, escaped again");
        assertEquals("", Html.text(null));
        assertEquals("plain text, ünïcödé \u2028", Html.text("plain text, ünïcödé \u2028"));
    }

    @Test
    void scriptJsonHasNoMarkupCharactersAndParsesToTheSameValue() throws Exception {
        ObjectNode n = JSON.createObjectNode();
        n.put("label", ATTACK);
        n.put("comment", "<!-- x --> & \u2028\u2029 \"quoted\" \\ back");
        n.putArray("list").add(ATTACK).add(1.5);
        String s = Html.scriptJson(n);
        for (String bad : new String[]{"<", ">", "&", "\u2028", "\u2029"}) {
            assertFalse(s.contains(bad), bad + " in " + s);
        }
        assertTrue(s.contains("\\u003c/script\\u003e"), s);
        assertEquals(n, JSON.readTree(s), "the escapes mean the same JSON");
    }

    @Test
    void scriptSafeLeavesOtherJsonAlone() {
        assertEquals("{\"a\":[1,2.5,true,null,\"x\\\"y\"]}", Html.scriptSafe("{\"a\":[1,2.5,true,null,\"x\\\"y\"]}"));
    }

}
