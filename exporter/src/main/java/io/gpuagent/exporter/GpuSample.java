package io.gpuagent.exporter;

import io.gpuagent.nvml.PcieLink;
import io.gpuagent.nvml.ProcessInfo;
import io.gpuagent.nvml.RecoveryAction;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * One GPU's readings in a {@link Snapshot}. Immutable. Values are stored compactly, one {@code double} per
 * {@link Reading} (NaN: absent); structured extras (NVLink links, processes) are immutable lists.
 *
 * <p>{@link #readAt()} is when these values were read; a {@link GpuStatus#STALE} or {@link GpuStatus#LOST}
 * sample carries the previous values with their old {@code readAt}. {@link #statusReason()} says why a
 * sample is not OK (e.g. {@code "read still in nvmlDeviceGetTemperatureV after 812 ms"}), null when OK.
 */
public final class GpuSample {
    private final GpuInfo info;
    private final GpuStatus status;
    private final String statusReason;
    private final Instant readAt;
    private final double[] values;
    private final List<NvLinkInfo> nvLinks;
    private final List<ProcessInfo> processes;
    private final List<String> notes;
    private final List<MigSample> migDevices;
    private final boolean released;
    private final DcgmPart dcgm;

    private GpuSample(GpuInfo info, GpuStatus status, String statusReason, Instant readAt, double[] values,
                      List<NvLinkInfo> nvLinks, List<ProcessInfo> processes, List<String> notes,
                      List<MigSample> migDevices, boolean released, DcgmPart dcgm) {
        this.info = Objects.requireNonNull(info, "info");
        this.status = Objects.requireNonNull(status, "status");
        this.statusReason = statusReason;
        this.readAt = Objects.requireNonNull(readAt, "readAt");
        this.values = values;
        this.nvLinks = nvLinks;
        this.processes = processes;
        this.notes = notes;
        this.migDevices = migDevices;
        this.released = released;
        this.dcgm = dcgm;
    }

    public static Builder builder(GpuInfo info) {
        return new Builder(info);
    }

    /** A GPU that has never been read (its first read is still running or failed): no values. */
    public static GpuSample unread(GpuInfo info, GpuStatus status, String reason, Instant since) {
        return new Builder(info).status(status, reason).readAt(since).build();
    }

    public GpuInfo info() {
        return info;
    }

    public int index() {
        return info.index();
    }

    public String uuid() {
        return info.uuid();
    }

    public GpuStatus status() {
        return status;
    }

    /** Why the sample is STALE or LOST; null when OK. */
    public String statusReason() {
        return statusReason;
    }

    public Instant readAt() {
        return readAt;
    }

    public boolean has(Reading reading) {
        return !Double.isNaN(values[reading.ordinal()]);
    }

    public OptionalDouble value(Reading reading) {
        double v = values[reading.ordinal()];
        return Double.isNaN(v) ? OptionalDouble.empty() : OptionalDouble.of(v);
    }

    public double valueOr(Reading reading, double fallback) {
        double v = values[reading.ordinal()];
        return Double.isNaN(v) ? fallback : v;
    }

    /** The raw value, NaN when absent (for hot paths that avoid Optional). */
    public double raw(Reading reading) {
        return values[reading.ordinal()];
    }

    /** Integer-valued readings (counters, bitmasks) as a long. */
    public OptionalLong longValue(Reading reading) {
        double v = values[reading.ordinal()];
        return Double.isNaN(v) ? OptionalLong.empty() : OptionalLong.of((long) v);
    }

    /** Per-link NVLink state and error counters; empty when not read or the GPU has no NVLink. */
    public List<NvLinkInfo> nvLinks() {
        return nvLinks;
    }

    /** Compute and graphics processes on this GPU (each PID once); empty when not read or none. */
    public List<ProcessInfo> processes() {
        return processes;
    }

    /**
     * What this read left out on purpose and why, for {@code /v1/gpus/{id}} (e.g. GPM paused while another
     * profiler holds the counters); empty when nothing was.
     */
    public List<String> notes() {
        return notes;
    }

    /**
     * The MIG devices of a GPU in MIG mode, in GPU instance then compute instance order; empty for a GPU not in
     * MIG mode, one in MIG mode with no instances yet, and before the MIG configuration was first read.
     */
    public List<MigSample> migDevices() {
        return migDevices;
    }

    /** Whether the GPU is in MIG mode now ({@link Reading#MIG_MODE}); false when not read. */
    public boolean migEnabled() {
        return raw(Reading.MIG_MODE) == 1;
    }

    /** The MIG device with this {@code MIG-} UUID, or null. */
    public MigSample migDevice(String uuid) {
        for (MigSample m : migDevices) {
            if (m.uuid().equals(uuid)) {
                return m;
            }
        }
        return null;
    }

    /** {@link io.gpuagent.nvml.ClockEventReasons} bits. */
    public OptionalLong clockEventReasons() {
        return longValue(Reading.CLOCK_EVENT_REASONS);
    }

    /** The driver's recovery hint (field 230); empty on drivers before 565. */
    public Optional<RecoveryAction> recoveryAction() {
        OptionalLong v = longValue(Reading.RECOVERY_ACTION);
        return v.isPresent() ? Optional.of(RecoveryAction.of(v.getAsLong())) : Optional.empty();
    }

    /** Current and max PCIe link generation and width, when all four were read. */
    public Optional<PcieLink> pcieLink() {
        if (!has(Reading.PCIE_LINK_GEN) || !has(Reading.PCIE_LINK_WIDTH) || !has(Reading.PCIE_MAX_LINK_GEN)
                || !has(Reading.PCIE_MAX_LINK_WIDTH)) {
            return Optional.empty();
        }
        return Optional.of(new PcieLink((int) raw(Reading.PCIE_LINK_GEN), (int) raw(Reading.PCIE_LINK_WIDTH),
                (int) raw(Reading.PCIE_MAX_LINK_GEN), (int) raw(Reading.PCIE_MAX_LINK_WIDTH)));
    }

    /** The same values with another status and reason, keeping {@link #readAt()}. */
    public GpuSample withStatus(GpuStatus newStatus, String reason) {
        return new GpuSample(info, newStatus, reason, readAt, values, nvLinks, processes, notes, migDevices, false, dcgm);
    }

    /**
     * These readings, STALE because the agent released NVML on purpose (so that a GPU can be reset), not
     * because a read hangs: health keeps its judgement instead of calling the GPU degraded.
     */
    public GpuSample released(String reason) {
        return new GpuSample(info, GpuStatus.STALE, reason, readAt, values, nvLinks, processes, notes, migDevices,
                true, dcgm);
    }

    /** Whether this is a {@link #released} sample. */
    public boolean isReleased() {
        return released;
    }

    /**
     * What DCGM added to this sample ({@code gpu-agent.dcgm.mode} on): which readings it supplied, the DCGM-only
     * fields a counters file asked for, DCGM's health incidents and the policy violations of this sweep.
     * {@link DcgmPart#NONE} when DCGM is off or gave nothing for this GPU.
     */
    public DcgmPart dcgm() {
        return dcgm;
    }

    /** A DCGM-only field's value ({@link MetricDef#isDcgmField()}), NaN when DCGM has none for this GPU. */
    public double dcgmField(int fieldId) {
        Double v = dcgm.fields().get(fieldId);
        return v == null ? Double.NaN : v;
    }

    /**
     * These readings with DCGM's joined in (the sampler does it after the NVML reads, in the same sweep): {@code
     * values} replaces this sample's values, {@code migs} its MIG devices, {@code moreNotes} is appended.
     */
    GpuSample withDcgm(double[] newValues, List<MigSample> migs, DcgmPart part, List<String> moreNotes) {
        List<String> n = notes;
        if (!moreNotes.isEmpty()) {
            n = new java.util.ArrayList<>(notes);
            n.addAll(moreNotes);
            n = List.copyOf(n);
        }
        return new GpuSample(info, status, statusReason, readAt, newValues, nvLinks, processes, n, List.copyOf(migs),
                released, part);
    }

    /** A copy of the values, indexed by {@link Reading#ordinal()}. */
    public double[] valuesCopy() {
        return values.clone();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("GpuSample[gpu=").append(info.index()).append(", uuid=").append(info.uuid())
                .append(", ").append(status);
        if (statusReason != null) {
            sb.append(" (").append(statusReason).append(')');
        }
        sb.append(", readAt=").append(readAt);
        for (Reading r : Reading.values()) {
            if (has(r)) {
                sb.append(", ").append(r).append('=').append(raw(r));
            }
        }
        return sb.append(']').toString();
    }

    /** Builds a sample; also how tests and detectors' unit tests make one. Not thread-safe. */
    public static final class Builder {
        private final GpuInfo info;
        private GpuStatus status = GpuStatus.OK;
        private String reason;
        private Instant readAt = Instant.EPOCH;
        private final double[] values = new double[Reading.COUNT];
        private List<NvLinkInfo> nvLinks = List.of();
        private List<ProcessInfo> processes = List.of();
        private List<String> notes = List.of();
        private List<MigSample> migDevices = List.of();
        private DcgmPart dcgm = DcgmPart.NONE;

        private Builder(GpuInfo info) {
            this.info = Objects.requireNonNull(info, "info");
            Arrays.fill(values, Double.NaN);
        }

        public Builder status(GpuStatus status, String reason) {
            this.status = Objects.requireNonNull(status);
            this.reason = reason;
            return this;
        }

        public Builder readAt(Instant readAt) {
            this.readAt = Objects.requireNonNull(readAt);
            return this;
        }

        public Builder set(Reading reading, double value) {
            values[reading.ordinal()] = value;
            return this;
        }

        /** Copies every value from {@code from} (NaN included). */
        public Builder values(double[] from) {
            System.arraycopy(from, 0, values, 0, Reading.COUNT);
            return this;
        }

        public Builder nvLinks(List<NvLinkInfo> links) {
            this.nvLinks = List.copyOf(links);
            return this;
        }

        public Builder processes(List<ProcessInfo> list) {
            this.processes = List.copyOf(list);
            return this;
        }

        public Builder notes(List<String> list) {
            this.notes = List.copyOf(list);
            return this;
        }

        public Builder migDevices(List<MigSample> list) {
            this.migDevices = List.copyOf(list);
            return this;
        }

        public Builder dcgm(DcgmPart part) {
            this.dcgm = Objects.requireNonNull(part);
            return this;
        }

        public GpuSample build() {
            return new GpuSample(info, status, reason, readAt, values.clone(), nvLinks, processes, notes, migDevices,
                    false, dcgm);
        }
    }
}
