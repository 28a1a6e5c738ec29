package io.gpuagent.nvml;

/**
 * One driver event from {@code nvmlEventSetWait_v2}. {@code eventType} is a single {@link EventTypes} bit;
 * {@code eventData} is the XID for {@link EventTypes#XID_CRITICAL_ERROR} (999 for an XID the driver does
 * not know), 0 otherwise. {@code device} is null only if the driver names a handle we never opened.
 */
public record GpuEvent(GpuDevice device, long eventType, long eventData, int gpuInstanceId, int computeInstanceId) {
    public boolean isXid() {
        return eventType == EventTypes.XID_CRITICAL_ERROR;
    }
}
