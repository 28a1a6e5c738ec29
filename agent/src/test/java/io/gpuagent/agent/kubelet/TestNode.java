package io.gpuagent.agent.kubelet;

import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Snapshot;
import java.time.Instant;
import java.util.List;

/**
 * A node for the mapping tests, as a sampler snapshot: GPU 0 and GPU 1 whole (minor numbers 0 and 1), GPU 2 in MIG
 * mode with GPU instance 7 (1g, profile 19, placement 0) and GPU instance 2 split into two compute instances (3g,
 * profile 9, placement 4). GPU 2's minor number is 5, so ids by minor number and by index differ there.
 */
public final class TestNode {

    public static final String GPU0 = "GPU-00000000-0000-4000-8000-000000000000";
    public static final String GPU1 = "GPU-11111111-1111-4111-8111-111111111111";
    public static final String GPU2 = "GPU-22222222-2222-4222-8222-222222222222";
    public static final String MIG_GI7 = "MIG-77777777-7777-4777-8777-777777777777";
    public static final String MIG_GI2_CI0 = "MIG-20202020-2020-4020-8020-202020202020";
    public static final String MIG_GI2_CI1 = "MIG-21212121-2121-4121-8121-212121212121";

    private TestNode() {
    }

    public static Snapshot snapshot() {
        GpuSample gpu0 = GpuSample.builder(gpu(0, GPU0, 0)).build();
        GpuSample gpu1 = GpuSample.builder(gpu(1, GPU1, 1)).build();
        GpuSample gpu2 = GpuSample.builder(gpu(2, GPU2, 5)).migDevices(List.of(
                MigSample.builder(new MigInstance(2, GPU2, MIG_GI7, 7, 0, "1g.10gb", 19, 1, 0, 16, 9984)).build(),
                MigSample.builder(new MigInstance(2, GPU2, MIG_GI2_CI0, 2, 0, "1c.3g.40gb", 9, 3, 4, 16, 40192)).build(),
                MigSample.builder(new MigInstance(2, GPU2, MIG_GI2_CI1, 2, 1, "1c.3g.40gb", 9, 3, 4, 16, 40192)).build()))
                .build();
        return new Snapshot(1, Instant.parse("2026-01-01T00:00:00Z"), true, null, "570.133.20", 3,
                List.of(gpu0, gpu1, gpu2));
    }

    private static GpuInfo gpu(int index, String uuid, int minor) {
        return new GpuInfo(index, uuid, "NVIDIA H100 80GB HBM3", "00000000:1" + index + ":00.0", minor, "", "", null);
    }
}
