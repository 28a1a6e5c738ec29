package io.gpuagent.agent.recovery;

/** The {@code trigger} of an audit line: who or what started the action. */
public final class Trigger {

    private static final String POLICY = "policy:";

    private Trigger() {
    }

    public static String operator(String remoteAddress) {
        return "operator:" + (remoteAddress == null || remoteAddress.isBlank() ? "unknown" : remoteAddress);
    }

    public static String policy(String reasonCode) {
        return POLICY + reasonCode;
    }

    /** The reason code of a policy trigger, or null for an operator. */
    public static String policyCode(String trigger) {
        return trigger != null && trigger.startsWith(POLICY) ? trigger.substring(POLICY.length()) : null;
    }
}
