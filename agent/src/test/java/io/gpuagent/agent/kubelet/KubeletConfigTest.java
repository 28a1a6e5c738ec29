package io.gpuagent.agent.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code gpu-agent.kubelet.*} through the config mapping, as the running agent reads it. */
class KubeletConfigTest {

    private static KubeletConfig config(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(KubeletConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 500)).build();
        return config.getConfigMapping(KubeletConfig.class);
    }

    @Test
    void offByDefaultWithTheKubeletsSocketAndNvidiasNames() {
        KubeletConfig c = config(Map.of());
        assertFalse(c.enabled());
        assertEquals(Path.of("/var/lib/kubelet/pod-resources/kubelet.sock"), c.socket());
        assertEquals(Duration.ofSeconds(10), c.refreshInterval());
        assertEquals(Duration.ofSeconds(5), c.deadline());
        assertEquals(4 << 20, c.maxAnswerBytes());
        assertEquals(List.of("nvidia.com/gpu", "nvidia.com/mig-*"), c.resourceNames());
        assertEquals(GpuIdType.UID, c.gpuIdType());
    }

    @Test
    void gpuIdTypeIsSpelledAsDcgmExportersFlag() {
        assertEquals(GpuIdType.DEVICE_NAME, config(Map.of("gpu-agent.kubelet.gpu-id-type", "device-name")).gpuIdType());
        assertEquals(GpuIdType.UID, config(Map.of("gpu-agent.kubelet.gpu-id-type", "uid")).gpuIdType());
        assertThrows(RuntimeException.class, () -> config(Map.of("gpu-agent.kubelet.gpu-id-type", "index")));
    }

    @Test
    void badLimitsAreRefusedWithTheirKey() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new GrpcPodResources(Path.of("/nonexistent.sock"), Duration.ofSeconds(1), 0));
        assertEquals("gpu-agent.kubelet.max-answer-bytes must be positive, not 0", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new GrpcPodResources(Path.of("/nonexistent.sock"), Duration.ZERO, 1024));
    }
}
