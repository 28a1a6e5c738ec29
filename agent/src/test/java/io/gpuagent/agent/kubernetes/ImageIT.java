package io.gpuagent.agent.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The container image {@code ./mvnw package} built, run by {@code kubernetes/image/check-image.sh}: in a real
 * container runtime where the kernel lets one run (else from its unpacked root), with the fake NVML driver mounted,
 * answering /metrics, /health, /q/health/live and its own {@code check --npd}, with pod labels read through a fake
 * kubelet's socket mounted where the DaemonSet mounts the kubelet's. Skips without the image
 * (-Dimage.skip=true), without root or without skopeo, umoci and runc/crun, unless {@code -Dimage.required=true} (CI).
 */
class ImageIT {

    private static final Path IMAGE = Path.of("target/gpu-agent-image.tar").toAbsolutePath();
    private static final Path SCRIPT = Path.of("../kubernetes/image/check-image.sh").toAbsolutePath().normalize();

    @Test
    void theImageServesTheFakeGpus() throws Exception {
        String missing = "";
        if (!Files.isRegularFile(IMAGE)) {
            missing = IMAGE + " (built by ./mvnw package unless -Dimage.skip=true)";
        } else if (!"root".equals(System.getProperty("user.name"))) {
            missing = "root (umoci unpack and the container runtime)";
        } else {
            for (String tool : List.of("skopeo", "umoci", "python3", "curl")) {
                if (!onPath(tool)) {
                    missing = tool + " (apt-get install skopeo umoci runc python3 curl)";
                }
            }
        }
        if (!missing.isEmpty()) {
            if (Boolean.getBoolean("image.required")) {
                throw new AssertionError("the image check needs " + missing);
            }
            assumeTrue(false, "the image check needs " + missing);
        }
        Path log = Files.createDirectories(Path.of("target", "it-agents")).resolve("check-image.log");
        Process p = new ProcessBuilder("sh", SCRIPT.toString(), IMAGE.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        boolean done = p.waitFor(180, TimeUnit.SECONDS);
        if (!done) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);   // its trap stops the container and unmounts
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(done, "check-image.sh did not finish in 180 s:\n" + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("check-image.sh: OK: the image ran"), out);
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }
}
