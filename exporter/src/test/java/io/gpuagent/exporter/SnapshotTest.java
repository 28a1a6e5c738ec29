package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Finding a GPU of a snapshot by UUID: at its index when it is there, anywhere otherwise. */
class SnapshotTest {

    private static final Instant T = Instant.parse("2025-01-01T00:00:00Z");

    @Test
    void aGpuIsFoundByUuidWhereverItSits() {
        GpuSample g0 = GpuSample.builder(GpuMetricsWriterTest.info(0)).readAt(T).build();
        GpuSample g2 = GpuSample.builder(GpuMetricsWriterTest.info(2)).readAt(T).build();   // GPU 1 left out
        Snapshot s = new Snapshot(1, T, true, null, "535", 3, List.of(g0, g2));
        assertSame(g0, s.sample(0, "GPU-0"));
        assertSame(g2, s.sample(2, "GPU-2"), "index 2 is past the list's end: found by scanning");
        assertSame(g2, s.sample(0, "GPU-2"), "at position 0 sits another GPU: found by scanning");
        assertSame(g2, s.sample(-1, "GPU-2"), "no index given");
        assertNull(s.sample(1, "GPU-1"));
        assertEquals(g2, s.gpu("GPU-2").orElseThrow());
    }
}
