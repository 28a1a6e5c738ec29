package io.gpuagent.agent.recovery;

import io.gpuagent.agent.OneLine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A configured command such as {@code nvidia-smi --gpu-reset -i {index}}: split into arguments once (double
 * or single quotes group words), placeholders filled into each argument, and run without a shell, so a
 * value can never become a second command.
 */
public record CommandTemplate(String key, String text, List<String> args) {

    /** A placeholder's value is cut here: a reason is one sentence, a node name or UUID far shorter. */
    static final int VALUE_MAX = 1000;
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z]+)}");

    public CommandTemplate {
        args = List.copyOf(args);
    }

    /**
     * Parses {@code text} (the value of config {@code key}) and checks that it names only {@code allowed}
     * placeholders; a mistake is a startup error that says which key to fix.
     */
    public static CommandTemplate parse(String key, String text, Set<String> allowed) {
        List<String> args = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inArg = false;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                inArg = true;
            } else if (Character.isWhitespace(c)) {
                if (inArg) {
                    args.add(cur.toString());
                    cur.setLength(0);
                    inArg = false;
                }
            } else {
                cur.append(c);
                inArg = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException(key + "=" + text + ": unbalanced " + quote + " quote");
        }
        if (inArg) {
            args.add(cur.toString());
        }
        if (args.isEmpty()) {
            throw new IllegalArgumentException(key + " is empty; set a command or remove the key");
        }
        for (String a : args) {
            Matcher m = PLACEHOLDER.matcher(a);
            while (m.find()) {
                if (!allowed.contains(m.group(1))) {
                    throw new IllegalArgumentException(key + "=" + text + ": unknown placeholder {" + m.group(1)
                            + "}; this command knows " + allowed.stream().sorted().map(p -> "{" + p + "}").toList());
                }
            }
        }
        return new CommandTemplate(key, text, args);
    }

    /**
     * The arguments with the placeholders filled in; each value as {@link OneLine} makes it (no control, format or
     * line-separator character, at most {@link #VALUE_MAX} characters): a drain reason ends up in Slurm's Reason=.
     */
    public List<String> argv(Map<String, String> values) {
        List<String> out = new ArrayList<>(args.size());
        for (String a : args) {
            Matcher m = PLACEHOLDER.matcher(a);
            StringBuilder s = new StringBuilder();
            while (m.find()) {
                String v = values.getOrDefault(m.group(1), "");
                m.appendReplacement(s, Matcher.quoteReplacement(OneLine.of(v, VALUE_MAX)));
            }
            m.appendTail(s);
            out.add(s.toString());
        }
        return out;
    }
}
