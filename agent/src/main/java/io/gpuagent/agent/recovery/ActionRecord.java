package io.gpuagent.agent.recovery;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * One line of the audit log {@code actions.jsonl}: one step of one action, or the line that opens or closes
 * the action ({@code step = "request"}).
 *
 * @param id         line number: increasing, never reused, continues after a restart
 * @param time       when the line was written
 * @param actionId   groups the lines of one action (one API request or one policy plan)
 * @param action     what was asked: {@code reset}, {@code drain}, {@code cordon}, {@code recover} (a policy plan), ...
 * @param step       the step, or {@link Step#REQUEST} for the line that opens or closes the action
 * @param gpu        GPU index; null for node-level lines (breaker)
 * @param uuid       GPU UUID; null for node-level lines
 * @param trigger    who or what: {@code operator:<remote address>} or {@code policy:<reason code>}
 * @param reason     why, in words
 * @param result     outcome
 * @param durationMs how long the step took; null on {@code started} and {@code recommended} lines
 * @param detail     what happened, for a person: command output (truncated), PIDs signalled, the rule that refused
 * @param powerCap   on a succeeded {@code power_cap} line: the limits, so a restart knows what to restore without
 *                   reading {@code detail} (absent on lines older agents wrote; see {@link PowerCap#of})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ActionRecord(long id, Instant time, String actionId, ActionKind action, Step step, Integer gpu, String uuid,
                           Trigger trigger, String reason, Result result, Long durationMs, String detail,
                           PowerCap powerCap) {

    /** A line without typed fields beyond the common ones. */
    public ActionRecord(long id, Instant time, String actionId, ActionKind action, Step step, Integer gpu, String uuid,
                        Trigger trigger, String reason, Result result, Long durationMs, String detail) {
        this(id, time, actionId, action, step, gpu, uuid, trigger, reason, result, durationMs, detail, null);
    }

    ActionRecord withId(long newId, Instant at) {
        return new ActionRecord(newId, at, actionId, action, step, gpu, uuid, trigger, reason, result, durationMs, detail,
                powerCap);
    }
}
