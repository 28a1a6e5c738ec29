package io.gpuagent.dcgm.ffm;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.nvml.fake.FakeNvml;
import java.nio.file.Path;

/**
 * The fake libdcgm.so.4 builds (src/main/c/dcgm, shipped in the test kit beside the fake NVML) and the scenario file
 * it shares with the fake NVML. The fake DCGM re-reads the file at every call, so a written scenario is in force for
 * the next call.
 */
final class FakeDcgm {
    static final Path LIBRARY = FakeNvml.DCGM_LIBRARY;
    static final Path LIBRARY_40 = FakeNvml.DCGM_LIBRARY_40;

    private FakeDcgm() {
    }

    static void scenario(String... lines) {
        FakeNvml.write(lines);
    }

    static Dcgm embedded() {
        return Dcgm.embedded(LIBRARY.toString());
    }
}
