package io.gpuagent.agent.health;

import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.NvLinkInfo;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Canned GPU samples for the pure detector and engine tests: an idle, healthy H100 to change one reading of. */
public final class Samples {

    public static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

    private Samples() {
    }

    public static GpuInfo info(int index) {
        return new GpuInfo(index, "GPU-test-" + index, "NVIDIA H100 80GB HBM3", "00000000:18:00.0", index, "", "", null);
    }

    public static String uuid(int index) {
        return info(index).uuid();
    }

    /** Every reading a detector looks at, at a healthy value; four NVLink links up. */
    public static GpuSample.Builder healthy(int index) {
        List<NvLinkInfo> links = new ArrayList<>();
        for (int l = 0; l < 4; l++) {
            links.add(new NvLinkInfo(l, true, 0, 0, 0, 0));
        }
        return GpuSample.builder(info(index)).readAt(T0)
                .set(Reading.GPU_TEMP_C, 40).set(Reading.SLOWDOWN_TEMP_C, 89).set(Reading.SHUTDOWN_TEMP_C, 92)
                .set(Reading.CLOCK_EVENT_REASONS, 0x1)
                .set(Reading.ECC_SBE_VOLATILE, 0).set(Reading.ECC_DBE_VOLATILE, 0)
                .set(Reading.ROW_REMAP_PENDING, 0).set(Reading.ROW_REMAP_FAILURE, 0)
                .set(Reading.RETIRED_PAGES_SBE, 0).set(Reading.RETIRED_PAGES_DBE, 0).set(Reading.RETIRED_PAGES_PENDING, 0)
                .set(Reading.PCIE_REPLAY_COUNTER, 0).set(Reading.PCIE_LINK_GEN, 5).set(Reading.PCIE_LINK_WIDTH, 16)
                .set(Reading.PCIE_MAX_LINK_GEN, 5).set(Reading.PCIE_MAX_LINK_WIDTH, 16)
                .set(Reading.NVLINK_CRC_FLIT_ERRORS, 0).set(Reading.NVLINK_CRC_DATA_ERRORS, 0)
                .set(Reading.NVLINK_REPLAY_ERRORS, 0).set(Reading.NVLINK_RECOVERY_ERRORS, 0)
                .set(Reading.NVLINK_LINKS, 4).nvLinks(links)
                .set(Reading.RECOVERY_ACTION, 0);
    }

    /**
     * A MIG device of GPU {@code gpu} (an H100 80GB's {@code 1g.10gb} or {@code 3g.40gb}); {@code generation} tells
     * apart the instances that one GPU instance id has had: each reconfiguration makes a new MIG UUID.
     */
    public static MigInstance mig(int gpu, int gi, int ci, String profile, int generation) {
        boolean small = profile.equals("1g.10gb");
        return new MigInstance(gpu, uuid(gpu), migUuid(gpu, gi, ci, generation), gi, ci, profile, small ? 19 : 9,
                small ? 1 : 4, small ? gi : 0, small ? 16 : 60, small ? 9856 : 40192);
    }

    /** The MIG UUID {@link #mig} gives, lower-case 8-4-4-4-12 as the driver writes it. */
    public static String migUuid(int gpu, int gi, int ci, int generation) {
        return String.format("MIG-%08x-%04x-4000-8000-%012x", gpu, gi * 16 + ci, generation);
    }

    /** {@link #healthy} in MIG mode with these MIG devices (each using 0 MiB). */
    public static GpuSample.Builder inMigMode(int index, MigInstance... devices) {
        List<MigSample> list = new ArrayList<>();
        for (MigInstance m : devices) {
            list.add(MigSample.builder(m).set(Reading.FB_USED_MIB, 0).build());
        }
        return healthy(index).set(Reading.MIG_MODE, 1).set(Reading.MIG_MODE_PENDING, 1).migDevices(list);
    }

    /** The real config mapping (defaults from the annotations, Quarkus' "30s" durations) plus {@code overrides}. */
    public static HealthConfig config(Map<String, String> overrides) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(HealthConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(overrides, "test", 100)).build();
        return config.getConfigMapping(HealthConfig.class);
    }

    public static Snapshot snapshot(GpuSample... gpus) {
        return new Snapshot(1, T0, true, null, "550.54.15", gpus.length, List.of(gpus));
    }

    /** A clock the test moves by hand. */
    public static final class TestClock extends Clock {
        private Instant now = T0;

        @Override
        public Instant instant() {
            return now;
        }

        public void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
