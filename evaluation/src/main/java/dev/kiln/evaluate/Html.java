package dev.kiln.evaluate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Escaping for report.html. Every string in a report can come from data (checkpoint and shard paths, labels,
 * prompts, generated text), so each one goes through {@link #text} on its way into HTML and through
 * {@link #scriptJson} on its way into a {@code <script>} block.
 */
public final class Html {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Html() {
    }

    /** Text for an HTML element's content or a quoted attribute value: {@code & < > " '} as character references. */
    public static String text(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * JSON that can sit inside a {@code <script>} element: {@code < > &} and U+2028/U+2029 written as {@code \\uXXXX}
     * escapes, so no {@code </script>} or {@code <!--} can end or change the element, and the text parses as the
     * same JSON (those characters only ever occur inside JSON strings, where the escapes mean the same).
     */
    public static String scriptJson(JsonNode value) {
        String json;
        try {
            json = JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise report data", e);
        }
        return scriptSafe(json);
    }

    static String scriptSafe(String json) {
        StringBuilder sb = new StringBuilder(json.length() + 64);
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            switch (c) {
                case '<' -> sb.append("\\u003c");
                case '>' -> sb.append("\\u003e");
                case '&' -> sb.append("\\u0026");
                case '\u2028' -> sb.append("\\u2028");
                case '\u2029' -> sb.append("\\u2029");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
