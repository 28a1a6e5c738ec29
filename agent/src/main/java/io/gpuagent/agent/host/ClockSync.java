package io.gpuagent.agent.host;

/**
 * Whether the kernel clock is synchronised, as {@code adjtimex(2)} says (what {@code timedatectl}'s
 * "System clock synchronized" shows): UNSYNCHRONISED when it returns TIME_ERROR (STA_UNSYNC set, or the
 * maximum error at 16 s); UNKNOWN when it cannot be asked.
 *
 * @param maxErrorMicros the kernel's maximum error estimate, -1 when unknown
 */
public record ClockSync(Status status, long maxErrorMicros, String detail) {

    public enum Status { SYNCHRONISED, UNSYNCHRONISED, UNKNOWN }

    public static ClockSync unknown(String why) {
        return new ClockSync(Status.UNKNOWN, -1, why);
    }
}
