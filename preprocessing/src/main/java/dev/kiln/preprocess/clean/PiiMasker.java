package dev.kiln.preprocess.clean;

import java.util.regex.Pattern;

/**
 * Replaces e-mail addresses, IP addresses (v4 and v6) and phone numbers with placeholders. Patterns err on the side of
 * recall for the forms found in mail and web text; dates, years and version numbers are left alone.
 */
public final class PiiMasker {
    public static final String EMAIL = "<EMAIL>";
    public static final String IP = "<IP_ADDRESS>";
    public static final String PHONE = "<PHONE_NUMBER>";

    private static final Pattern EMAIL_RE = Pattern.compile(
            "(?<![\\w.+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\\.)+[A-Za-z]{2,24}(?![\\w-])");
    private static final Pattern IPV4_RE = Pattern.compile(
            "(?<![\\d.])(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(?![\\d.]*\\d)");
    private static final Pattern IPV6_RE = Pattern.compile(
            "(?<![\\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\\w:])|(?<![\\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}(?![\\w:])");
    // +1 (555) 123-4567, 555-123-4567, 555.123.4567, +44 20 7946 0958, (020) 7946 0958: 7-15 digits with separators,
    // at least two groups, not part of a longer number.
    private static final Pattern PHONE_RE = Pattern.compile(
            "(?<![\\w+])(?:\\+\\d{1,3}[\\s.-]?)?(?:\\(\\d{2,4}\\)[\\s.-]?|\\d{2,4}[\\s.-])\\d{3,4}[\\s.-]\\d{3,4}(?![\\w-])"
                    + "|(?<![\\w+])\\+\\d{7,15}(?!\\w)");

    private PiiMasker() {
    }

    public static String mask(String s) {
        if (s.indexOf('@') >= 0) {
            s = EMAIL_RE.matcher(s).replaceAll(EMAIL);
        }
        s = IPV4_RE.matcher(s).replaceAll(IP);
        if (s.indexOf(':') >= 0) {
            s = IPV6_RE.matcher(s).replaceAll(IP);
        }
        s = PHONE_RE.matcher(s).replaceAll(PHONE);
        return s;
    }
}
