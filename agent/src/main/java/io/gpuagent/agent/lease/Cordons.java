package io.gpuagent.agent.lease;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which GPUs are out of placement (by UUID). A cordoned GPU is never leased; cordon and uncordon are
 * cheap, idempotent and always allowed (docs/faults.md#rails). The recovery engine owns the changes (and audits and
 * journals them); the lease book and the inventory only read.
 */
@ApplicationScoped
public class Cordons {

    /** Why a GPU is cordoned: who or what asked ({@code operator:<addr>}, {@code recovery}), why, since when. */
    public record Cordon(String uuid, String by, String reason, Instant since) {
    }

    private final Map<String, Cordon> cordoned = new ConcurrentHashMap<>();

    public boolean isCordoned(String uuid) {
        return cordoned.containsKey(uuid);
    }

    public Optional<Cordon> of(String uuid) {
        return Optional.ofNullable(cordoned.get(uuid));
    }

    public Collection<Cordon> all() {
        return List.copyOf(cordoned.values());
    }

    /** Cordons the GPU; true if it was not cordoned before (a second cordon keeps the first one's reason). */
    public boolean cordon(String uuid, String by, String reason, Instant at) {
        return cordoned.putIfAbsent(uuid, new Cordon(uuid, by, reason, at)) == null;
    }

    /** Uncordons the GPU; true if it was cordoned. */
    public boolean uncordon(String uuid) {
        return cordoned.remove(uuid) != null;
    }
}
