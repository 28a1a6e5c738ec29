package io.gpuagent.agent.recovery;

import io.gpuagent.exporter.Snapshot;

/** The GPU an action works on: its index, UUID (the key of every rail) and PCI bus id (for commands). */
public record Target(int index, String uuid, String pciBusId) {

    /** The GPU with its PCI bus id as {@code snapshot} read it (empty when the snapshot does not have it). */
    static Target of(Snapshot snapshot, int index, String uuid) {
        return new Target(index, uuid, snapshot.gpu(uuid).map(g -> g.info().pciBusId()).orElse(""));
    }
}
