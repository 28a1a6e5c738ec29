package io.gpuagent.exporter;

/**
 * One NVLink link of a GPU. Error counters are -1 where the driver does not report them (or the link is
 * inactive). The counters are re-read only when one of the GPU's summed totals moved since the previous
 * read (or every {@link SamplerSettings#staticEvery()} reads), so a link's counters may be carried over.
 *
 * @param link     link index
 * @param active   {@code nvmlDeviceGetNvLinkState}
 * @param replay   DL replay errors
 * @param recovery DL recovery errors
 * @param crcFlit  DL CRC flit errors
 * @param crcData  DL CRC data errors
 */
public record NvLinkInfo(int link, boolean active, long replay, long recovery, long crcFlit, long crcData) {
}
