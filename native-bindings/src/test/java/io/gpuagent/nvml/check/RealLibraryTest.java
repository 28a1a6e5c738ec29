package io.gpuagent.nvml.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.NvmlReturn;
import org.junit.jupiter.api.Test;

/** NVIDIA's real libnvidia-ml.so.1 (535) loads through our bindings; with no GPU, init fails cleanly. */
class RealLibraryTest {

    @Test
    void initWithoutAKernelDriverIsATypedDriverNotLoadedError() {
        RealNvml.assumePresent();
        NvmlException e = assertThrows(NvmlException.class, () -> Nvml.open(RealNvml.LIBRARY.toString()).close());
        assertEquals(NvmlReturn.DRIVER_NOT_LOADED, e.result(), e.getMessage());
        assertEquals("nvmlInit_v2", e.function());
        assertTrue(e.driverMissing());
        assertTrue(e.getMessage().contains("DRIVER_NOT_LOADED"), e.getMessage());
        // A second attempt behaves the same: the failed init left nothing behind.
        NvmlException again = assertThrows(NvmlException.class, () -> Nvml.open(RealNvml.LIBRARY.toString()).close());
        assertEquals(9, again.code());
    }
}
