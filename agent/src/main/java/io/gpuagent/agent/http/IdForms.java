package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import jakarta.ws.rs.WebApplicationException;
import java.util.regex.Pattern;

/**
 * The one accepted spelling of each id a path or query parameter carries, so that no two strings name the same
 * thing ({@code 01} is not {@code 1}) and nothing is guessed: whole numbers in canonical decimal (ASCII digits,
 * no sign, no leading zero, no whitespace, bounded length), ids the agent hands out (leases, placements, actions)
 * in the lower-case form {@link java.util.UUID} writes, node names as the node-token directory takes them.
 * Anything else is a 400 problem naming the accepted form.
 */
final class IdForms {

    /** A UUID as {@link java.util.UUID#toString} and NVML write it: lower-case hex, 8-4-4-4-12. */
    static final String UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private static final Pattern UUID_FORM = Pattern.compile(UUID);
    /** A node name that can be a file name in the node-token directory (auth's TokenAuth.NODE_NAME). */
    private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,252}");

    private IdForms() {
    }

    /** A whole number of at most {@code digits} digits in canonical decimal, or null when it is not one. */
    static Long number(String raw, int digits) {
        if (raw == null || raw.isEmpty() || raw.length() > digits) {
            return null;
        }
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c < '0' || c > '9' || c == '0' && i == 0 && raw.length() > 1) {
                return null;
            }
        }
        return Long.parseLong(raw);
    }

    /** An id the agent or coordinator made ({@code what}: "lease", "placement", "action"). */
    static String generated(String raw, String what) {
        if (raw == null || !UUID_FORM.matcher(raw).matches()) {
            throw bad("'" + abbreviate(raw) + "' is not " + (what.startsWith("a") ? "an " : "a ") + what + " id: "
                    + what + " ids are lower-case UUIDs such as "
                    + "3f2a6c1e-8b0d-4c5e-9f1a-2b3c4d5e6f70, as the agent handed them out");
        }
        return raw;
    }

    static String nodeName(String raw) {
        if (raw == null || !NODE_NAME.matcher(raw).matches()) {
            throw bad("'" + abbreviate(raw) + "' is not a node name: 1-253 characters of A-Z a-z 0-9 . _ -, not "
                    + "starting with . or -");
        }
        return raw;
    }

    static WebApplicationException bad(String detail) {
        return new WebApplicationException(Problem.badRequest(detail));
    }

    static String abbreviate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
