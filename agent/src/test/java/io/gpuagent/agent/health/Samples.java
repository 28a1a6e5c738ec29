package io.gpuagent.agent.health;

import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.NvLinkInfo;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

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
