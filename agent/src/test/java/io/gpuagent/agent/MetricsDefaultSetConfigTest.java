package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.exporter.DefaultSet;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code gpu-agent.metrics.default-set} through the config mapping, as the running agent reads it. */
class MetricsDefaultSetConfigTest {

    private static AgentConfig config(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(AgentConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 500)).build();
        return config.getConfigMapping(AgentConfig.class);
    }

    @Test
    void legacyUnlessTheOtherSetIsNamed() {
        assertEquals(DefaultSet.LEGACY, config(Map.of()).metrics().defaultSet(), "existing dashboards keep working");
        assertEquals(DefaultSet.DCGM_EXPORTER_4_10,
                config(Map.of("gpu-agent.metrics.default-set", "dcgm-exporter-4.10")).metrics().defaultSet());
    }

    @Test
    void anUnknownSetFailsNamingTheAcceptedOnes() {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> config(Map.of("gpu-agent.metrics.default-set", "dcgm-exporter-4.9")));
        String messages = e.toString() + (e.getCause() == null ? "" : " " + e.getCause());
        assertTrue(messages.contains("use one of legacy, dcgm-exporter-4.10"), messages);
    }
}
