package io.gpuagent.agent.lease;

/** The node's inventory as of now; cheap (no NVML), callable from any thread. */
public interface InventorySource {

    Inventory inventory();
}
