package io.gpuagent.agent.recovery;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One action at a time per GPU: an action holds its GPU's lane from acceptance to its last step. A second
 * action for a busy GPU is refused at once (never queued behind a reset that may take minutes).
 */
final class GpuLanes {

    /** A held lane; closing it frees the GPU for the next action. */
    final class Lane implements AutoCloseable {
        private final String uuid;
        private final String actionId;

        private Lane(String uuid, String actionId) {
            this.uuid = uuid;
            this.actionId = actionId;
        }

        @Override
        public void close() {
            busy.remove(uuid, actionId);
        }
    }

    private final Map<String, String> busy = new ConcurrentHashMap<>();   // uuid -> action holding it

    /** The lane of {@code uuid} for {@code actionId}, or empty when another action holds it. */
    Optional<Lane> tryAcquire(String uuid, String actionId) {
        return busy.putIfAbsent(uuid, actionId) == null ? Optional.of(new Lane(uuid, actionId)) : Optional.empty();
    }

    /** The action holding the GPU's lane, if any. */
    Optional<String> holder(String uuid) {
        return Optional.ofNullable(busy.get(uuid));
    }
}
