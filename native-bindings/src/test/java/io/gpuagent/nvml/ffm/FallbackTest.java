package io.gpuagent.nvml.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.fake.FakeNvml;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The 535 build of the fake lacks nvmlDeviceGetTemperatureV: the bindings use the older call. */
class FallbackTest {

    @Test
    void the535DriverFallsBackToNvmlDeviceGetTemperature() {
        FakeNvml.write("gpu.*.temp = 44");
        try (Nvml nvml = FakeNvml.openWhenReady(FakeNvml.LIBRARY_535)) {
            FakeNvml.apply("gpu.*.temp = 44", "gpu.1.temp = 61");
            assertEquals(44, nvml.device(0).temperature());
            assertEquals(61, nvml.device(1).temperature());
            FakeNvml.apply("gpu.1.unsupported.nvmlDeviceGetTemperature = 1");
            NvmlException e = assertThrows(NvmlException.class, () -> nvml.device(1).temperature());
            assertEquals("nvmlDeviceGetTemperature", e.function());
            assertTrue(e.notSupported());
            FakeNvml.reset();
        }
    }

    @Test
    void theTablesBindWhatEachBuildExports() {
        Functions current = new Functions(NvmlLibrary.open(FakeNvml.LIBRARY.toString()));
        Functions old = new Functions(NvmlLibrary.open(FakeNvml.LIBRARY_535.toString()));
        assertNotNull(current.thermal.nvmlDeviceGetTemperatureV);
        assertNull(old.thermal.nvmlDeviceGetTemperatureV);
        assertNotNull(old.thermal.nvmlDeviceGetTemperature);
    }

    @Test
    void everyFallbackIsItselfBoundAsOptional() {
        Map<String, NvmlLibrary.BoundSymbol> bound = NvmlLibrary.boundSymbols().stream()
                .collect(Collectors.toMap(NvmlLibrary.BoundSymbol::name, s -> s));
        assertEquals(NvmlLibrary.boundSymbols().size(), bound.size(), "no symbol is bound twice");
        bound.values().stream().filter(s -> s.fallback() != null).forEach(s -> {
            assertTrue(s.optional(), s.name());
            NvmlLibrary.BoundSymbol older = bound.get(s.fallback());
            assertNotNull(older, s.fallback());
            assertTrue(older.optional(), older.name());
        });
        assertEquals("nvmlDeviceGetTemperature", bound.get("nvmlDeviceGetTemperatureV").fallback());
        assertEquals("nvmlDeviceGetMemoryInfo", bound.get("nvmlDeviceGetMemoryInfo_v2").fallback());
        assertFalse(bound.get("nvmlInit_v2").optional());
        assertTrue(bound.get("nvmlGpmSampleAlloc").optional());
        assertNull(bound.get("nvmlGpmSampleAlloc").fallback());
    }
}
