package io.gpuagent.nvml;

/** {@code nvmlPcieUtilCounter_t}. */
public enum PcieCounter {
    TX_BYTES, RX_BYTES;

    public int code() {
        return ordinal();
    }
}
