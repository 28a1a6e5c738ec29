package io.gpuagent.nvml.check;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where tools/fetch-debian-nvml.sh unpacked Debian's real NVML (libnvidia-ml1 535 + libnvidia-ml-dev's
 * nvml.h). Without it the checks skip, unless {@code -Dreal-nvml.required=true} (CI) makes that a failure.
 */
final class RealNvml {
    static final Path ROOT = Path.of(System.getProperty("real-nvml.dir", "target/real-nvml"));
    static final Path LIBRARY = ROOT.resolve("usr/lib/x86_64-linux-gnu/nvidia/current/libnvidia-ml.so.1");
    static final Path INCLUDE = ROOT.resolve("usr/include");

    private RealNvml() {
    }

    static void assumePresent() {
        boolean present = Files.exists(LIBRARY) && Files.exists(INCLUDE.resolve("nvml.h"));
        if (!present && Boolean.getBoolean("real-nvml.required")) {
            throw new AssertionError("Debian's real NVML is not unpacked in " + ROOT.toAbsolutePath()
                    + "; run native-bindings/tools/fetch-debian-nvml.sh first");
        }
        assumeTrue(present, "real NVML not unpacked in " + ROOT + " (run native-bindings/tools/fetch-debian-nvml.sh)");
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }
}
