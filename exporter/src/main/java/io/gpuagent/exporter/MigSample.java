package io.gpuagent.exporter;

import io.gpuagent.nvml.ProcessInfo;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * One MIG device's readings inside its parent's {@link GpuSample}: what MIG partitions (memory, activity,
 * processes), read in the same sweep as the parent. What is physical (temperature, power, clocks, ECC, PCIe,
 * NVLink) stays on the parent; docs/metrics.md#mig has the table. The parent's status and read time apply.
 * Values are indexed by {@link Reading} like a GPU's (NaN: absent); only the partitioned readings are ever set.
 */
public final class MigSample {
    private final MigInstance info;
    private final double[] values;
    private final List<ProcessInfo> processes;

    private MigSample(MigInstance info, double[] values, List<ProcessInfo> processes) {
        this.info = Objects.requireNonNull(info, "info");
        this.values = values;
        this.processes = processes;
    }

    public static Builder builder(MigInstance info) {
        return new Builder(info);
    }

    public MigInstance info() {
        return info;
    }

    public String uuid() {
        return info.uuid();
    }

    public boolean has(Reading reading) {
        return !Double.isNaN(values[reading.ordinal()]);
    }

    /** The raw value, NaN when absent. */
    public double raw(Reading reading) {
        return values[reading.ordinal()];
    }

    public OptionalDouble value(Reading reading) {
        double v = values[reading.ordinal()];
        return Double.isNaN(v) ? OptionalDouble.empty() : OptionalDouble.of(v);
    }

    /** Compute processes running in this MIG device; empty when not read or none. */
    public List<ProcessInfo> processes() {
        return processes;
    }

    /** A copy of the values, indexed by {@link Reading#ordinal()}. */
    double[] valuesCopy() {
        return values.clone();
    }

    /** The same MIG device with other values (DCGM's profiling joined in). */
    MigSample withValues(double[] newValues) {
        return new MigSample(info, newValues, processes);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MigSample[").append(info.address()).append(", ").append(info.uuid())
                .append(", ").append(info.profile());
        for (Reading r : Reading.values()) {
            if (has(r)) {
                sb.append(", ").append(r).append('=').append(raw(r));
            }
        }
        return sb.append(']').toString();
    }

    /** Builds a sample (the reader, and tests). Not thread-safe. */
    public static final class Builder {
        private final MigInstance info;
        private final double[] values = new double[Reading.COUNT];
        private List<ProcessInfo> processes = List.of();

        private Builder(MigInstance info) {
            this.info = Objects.requireNonNull(info, "info");
            Arrays.fill(values, Double.NaN);
        }

        public Builder set(Reading reading, double value) {
            values[reading.ordinal()] = value;
            return this;
        }

        public Builder processes(List<ProcessInfo> list) {
            this.processes = List.copyOf(list);
            return this;
        }

        public MigSample build() {
            return new MigSample(info, values.clone(), processes);
        }
    }
}
