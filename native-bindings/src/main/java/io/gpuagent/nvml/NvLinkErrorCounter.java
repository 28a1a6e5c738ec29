package io.gpuagent.nvml;

/** {@code nvmlNvLinkErrorCounter_t}. */
public enum NvLinkErrorCounter {
    DL_REPLAY, DL_RECOVERY, DL_CRC_FLIT, DL_CRC_DATA, DL_ECC_DATA;

    public int code() {
        return ordinal();
    }
}
