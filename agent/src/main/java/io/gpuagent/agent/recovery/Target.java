package io.gpuagent.agent.recovery;

/** The GPU an action works on: its index, UUID (the key of every rail) and PCI bus id (for commands). */
public record Target(int index, String uuid, String pciBusId) {
}
