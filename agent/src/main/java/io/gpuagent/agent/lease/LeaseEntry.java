package io.gpuagent.agent.lease;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;

/** One line of {@code leases.jsonl}: what happened to a lease, in the order it happened. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
        @JsonSubTypes.Type(value = LeaseEntry.Granted.class, name = "GRANT"),
        @JsonSubTypes.Type(value = LeaseEntry.Heartbeat.class, name = "HEARTBEAT"),
        @JsonSubTypes.Type(value = LeaseEntry.Released.class, name = "RELEASE"),
        @JsonSubTypes.Type(value = LeaseEntry.Expired.class, name = "EXPIRE"),
        @JsonSubTypes.Type(value = LeaseEntry.FencingFloor.class, name = "FENCING_FLOOR")})
public sealed interface LeaseEntry {

    record Granted(Lease lease) implements LeaseEntry {
    }

    record Heartbeat(String leaseId, Instant expiresAt, Instant at) implements LeaseEntry {
    }

    /** Released by its holder, or ended by the agent (recovery's drain): {@code reason} says which. */
    record Released(String leaseId, String reason, Instant at) implements LeaseEntry {
    }

    record Expired(String leaseId, Instant at) implements LeaseEntry {
    }

    /**
     * The highest fencing token ever granted; the first line after a compaction, so that tokens keep rising
     * even when the compaction kept no lease.
     */
    record FencingFloor(long fencingToken) implements LeaseEntry {
    }
}
