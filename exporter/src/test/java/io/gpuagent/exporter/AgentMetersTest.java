package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlReturn;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Scenario;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The agent's own series come out with exactly the names of docs/metrics.md through Micrometer's Prometheus
 * naming, in both registries: the simpleclient one Quarkus 3.34 uses, and the client_java 1.x one. Read from
 * the fake driver, with an NVML error and a NOT_SUPPORTED reading on GPU 1.
 */
class AgentMetersTest {
    private static final String UUID0 = "GPU-00000000-0000-0000-0000-000000000000";
    private static final String UUID1 = "GPU-00000000-0000-0000-0000-000000000001";

    @Test
    void simpleclientRegistry() {
        var registry = new io.micrometer.prometheus.PrometheusMeterRegistry(io.micrometer.prometheus.PrometheusConfig.DEFAULT);
        check(registry, registry::scrape);
    }

    @Test
    void clientJava1Registry() {
        var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        check(registry, registry::scrape);
    }

    private static void check(MeterRegistry registry, Supplier<String> scrape) {
        Nvml nvml = FakeNvml.shared();   // first: the fake watches its scenario only while NVML is open
        FakeNvml.apply(Scenario.gpus(2).gpu(0, "uuid", UUID0).gpu(1, "uuid", UUID1)
                .error(1, "nvmlDeviceGetPowerUsage", NvmlReturn.UNKNOWN.code())
                .unsupported(1, "nvmlDeviceGetTemperatureV").unsupported(1, "nvmlDeviceGetTemperature"));
        SamplerSettings settings = new SamplerSettings(Duration.ofSeconds(1), Duration.ofMillis(500), Set.of(), "n");
        try (Sampler sampler = new Sampler(NvmlSource.of(nvml), settings, registry, Clock.systemUTC())) {
            sampler.sweepNow();
            String text = scrape.get();
            has(text, "^gpu_agent_nvml_up(\\{\\})? 1(\\.0)?$");
            has(text, "^gpu_agent_gpus(\\{\\})? 2(\\.0)?$");
            has(text, "^gpu_agent_snapshot_age_seconds(\\{\\})? [0-9.E-]+$");
            has(text, "^# TYPE gpu_agent_sample_duration_seconds histogram$");
            has(text, "^gpu_agent_sample_duration_seconds_bucket\\{le=\"0\\.001\",?\\} [0-9.]+$");
            has(text, "^gpu_agent_sample_duration_seconds_count(\\{\\})? 1(\\.0)?$");
            has(text, "^gpu_agent_nvml_errors_total\\{code=\"UNKNOWN\",function=\"nvmlDeviceGetPowerUsage\",?\\} 1(\\.0)?$");
            has(text, "^gpu_agent_gpu_reading_age_seconds\\{UUID=\"" + UUID1 + "\",gpu=\"1\",?\\} [0-9.E-]+$");
            has(text, "^gpu_agent_gpu_stale\\{UUID=\"" + UUID0 + "\",gpu=\"0\",?\\} 0(\\.0)?$");
            assertTrue(!text.contains("code=\"NOT_SUPPORTED\""), "NOT_SUPPORTED is a capability, not an error:\n" + text);
        }
    }

    private static void has(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(), "no line matching " + regex + " in:\n" + text);
    }
}
