package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The {@code trigger} of an audit line: who or what started the action. In the audit log and the API it is
 * the text {@code operator:<remote address>} or {@code policy:<reason code>}, as it always was.
 */
public sealed interface Trigger {

    /** An operator request from the API, from {@code address}. */
    record Operator(String address) implements Trigger {
        public Operator {
            address = address == null || address.isBlank() ? "unknown" : address;
        }

        @Override
        public String text() {
            return OPERATOR + address;
        }

        @Override
        public String toString() {
            return text();
        }
    }

    /** A policy plan for the health reason {@code code} (or {@code HEALTHY}, lifting a power cap). */
    record Policy(String code) implements Trigger {
        @Override
        public String text() {
            return POLICY + code;
        }

        @Override
        public String toString() {
            return text();
        }
    }

    String OPERATOR = "operator:";
    String POLICY = "policy:";

    /** As written in the audit log and shown by the API. */
    @JsonValue
    String text();

    static Trigger operator(String remoteAddress) {
        return new Operator(remoteAddress);
    }

    static Trigger policy(String reasonCode) {
        return new Policy(reasonCode);
    }

    /** Reads {@link #text()} back. */
    @JsonCreator
    static Trigger parse(String text) {
        if (text != null && text.startsWith(POLICY)) {
            return new Policy(text.substring(POLICY.length()));
        }
        if (text != null && text.startsWith(OPERATOR)) {
            return new Operator(text.substring(OPERATOR.length()));
        }
        throw new IllegalArgumentException("not a trigger: '" + text + "' (operator:<address> or policy:<code>)");
    }

    /** Whether a cordon's {@code by} (a trigger's text) names a policy plan. */
    static boolean isPolicy(String text) {
        return text != null && text.startsWith(POLICY);
    }
}
