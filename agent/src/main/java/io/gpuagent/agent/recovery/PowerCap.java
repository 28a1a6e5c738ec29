package io.gpuagent.agent.recovery;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A power cap recovery set, as its audit line records it: the limit before the cap (what a restore puts back)
 * and the capped limit, in milliwatts. At start the caps to restore are rebuilt from these.
 */
public record PowerCap(long beforeMw, long cappedMw) {

    /** The detail text of a power cap line written before the typed field existed. */
    private static final Pattern OLD_DETAIL = Pattern.compile("^power limit (\\d+) mW -> (\\d+) mW");

    /**
     * The cap a succeeded {@code power_cap} line recorded: its typed field, or for a line written by an older
     * agent (no field) the numbers in its detail; empty when the line capped nothing (already at or below).
     */
    static Optional<PowerCap> of(ActionRecord r) {
        if (r.powerCap() != null) {
            return Optional.of(r.powerCap());
        }
        Matcher m = r.detail() == null ? null : OLD_DETAIL.matcher(r.detail());
        return m != null && m.find() ? Optional.of(new PowerCap(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))))
                : Optional.empty();
    }
}
