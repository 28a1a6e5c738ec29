package io.gpuagent.dcgm.ffm;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.nvml.fake.FakeNvml;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fake libdcgm.so.4 builds (src/main/c/dcgm) and the scenario file it shares with the fake NVML. The fake DCGM
 * re-reads the file at every call, so a written scenario is in force for the next call.
 */
final class FakeDcgm {
    static final Path LIBRARY = built("fake-dcgm");
    static final Path LIBRARY_40 = built("fake-dcgm-4.0");

    private FakeDcgm() {
    }

    private static Path built(String dir) {
        Path p = Path.of("target", dir, "libdcgm.so.4").toAbsolutePath();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(p + " is missing: build the module (src/main/c/build.sh runs at compile)");
        }
        return p;
    }

    static void scenario(String... lines) {
        FakeNvml.write(lines);
    }

    static Dcgm embedded() {
        return Dcgm.embedded(LIBRARY.toString());
    }
}
