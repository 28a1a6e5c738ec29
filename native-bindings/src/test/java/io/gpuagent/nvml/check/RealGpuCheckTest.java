package io.gpuagent.nvml.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The kit's part 4 (release and re-init, the reset protocol without a reset) against the fake driver. */
class RealGpuCheckTest {

    @Test
    void releaseAndReinitLetsGoOfEverythingAndFindsTheSameGpus() {
        String library = Path.of(System.getProperty("fake.nvml.dir", "target/fake-nvml"), "libnvidia-ml.so.1")
                .toAbsolutePath().toString();
        StringBuilder report = new StringBuilder();
        int status = RealGpuCheck.releaseAndReinit(library, report);
        assertEquals(0, status, report.toString());
        assertTrue(report.toString().contains("OK: after nvmlShutdown this process holds no NVIDIA device file"), report.toString());
        assertTrue(report.toString().contains("OK: the same GPUs by index and UUID after re-init"), report.toString());
        assertTrue(report.toString().contains("persistence mode"), report.toString());
    }
}
