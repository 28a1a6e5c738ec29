package io.gpuagent.agent;

/**
 * Text from outside the agent (a GPU's name, a driver's XID text, a process name, a library's error, an
 * operator's reason) made fit to leave the process as one line: systemd's {@code STATUS=}, the {@code reason}
 * of {@code /health} that the Slurm health check passes to {@code scontrol ... Reason=}, the arguments of a
 * drain or reboot command. Every control character (C0, DEL and C1, NEL U+0085 among them), format character
 * (Unicode category Cf: the bidi embeddings, overrides and isolates, the zero-width characters, the BOM), line
 * and paragraph separator (U+2028, U+2029) and lone surrogate becomes a space; runs of spaces become one; the
 * result is cut to a bound. A newline would start a second notify assignment or a second log line, and a
 * bidi override would make a reason read differently from what it says.
 */
public final class OneLine {

    private OneLine() {
    }

    /**
     * {@code text} as one line of at most {@code maxLength} characters plus "..." when it was cut (never
     * between the two halves of a surrogate pair); null stays null.
     */
    public static String of(String text, int maxLength) {
        if (text == null) {
            return null;
        }
        StringBuilder s = new StringBuilder(Math.min(text.length(), maxLength + 3));
        boolean space = true;   // no leading space
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (unsafe(cp) || Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                if (!space) {
                    s.append(' ');
                    space = true;
                }
                continue;
            }
            if (s.length() + Character.charCount(cp) > maxLength) {
                return strip(s) + "...";
            }
            s.appendCodePoint(cp);
            space = false;
        }
        return strip(s);
    }

    /** Characters that must never leave the process inside one line. */
    static boolean unsafe(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                 Character.SURROGATE -> true;
            default -> false;
        };
    }

    private static String strip(StringBuilder s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == ' ') {
            end--;
        }
        return s.substring(0, end);
    }
}
