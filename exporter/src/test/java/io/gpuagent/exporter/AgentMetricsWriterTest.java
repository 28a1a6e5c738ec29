package io.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The writer's text is Micrometer's Prometheus (simpleclient) registry's text: family by family, the same
 * help, type and sample lines. Only the order differs (the registry's is a hash order, ours is by name),
 * so each family's lines are compared as sorted lists, after one exact-text check of the order.
 */
class AgentMetricsWriterTest {

    @Test
    void exactTextInNameAndLabelOrder() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AgentMetricsWriter writer = new AgentMetricsWriter(registry);
        Counter.builder("gpu_agent.b").description("B things.").tag("gpu", "1").register(registry).increment(2);
        Counter.builder("gpu_agent.b").description("B things.").tag("gpu", "0").register(registry);
        Gauge.builder("gpu_agent.a", () -> 0.25).description("A \\ level\nof two lines.").register(registry);
        assertEquals("""
                # HELP gpu_agent_a A \\\\ level\\nof two lines.
                # TYPE gpu_agent_a gauge
                gpu_agent_a 0.25
                # HELP gpu_agent_b_total B things.
                # TYPE gpu_agent_b_total counter
                gpu_agent_b_total{gpu="0",} 0.0
                gpu_agent_b_total{gpu="1",} 2.0
                """, writer.writeText());
    }

    @Test
    void everyKindOfMeterTheAgentUsesAsTheRegistryWritesIt() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Gauge.builder("gpu_agent.before", () -> 7).description("Registered before the writer.").register(registry);
        AgentMetricsWriter writer = new AgentMetricsWriter(registry);
        Gauge.builder("gpu_agent.snapshot.age", () -> 0.123456789).baseUnit("seconds").description("Age.").register(registry);
        Gauge.builder("gpu_agent.big", () -> 12_345_678_901.0).description("Past 10^7.").register(registry);
        Gauge.builder("gpu_agent.odd", () -> Double.NaN).description("NaN, then infinities.").tag("v", "nan").register(registry);
        Gauge.builder("gpu_agent.odd", () -> Double.POSITIVE_INFINITY).description("NaN, then infinities.").tag("v", "inf").register(registry);
        Gauge.builder("gpu_agent.odd", () -> Double.NEGATIVE_INFINITY).description("NaN, then infinities.").tag("v", "-inf").register(registry);
        Gauge.builder("gpu_agent.odd", () -> -0.0).description("NaN, then infinities.").tag("v", "-0").register(registry);
        Gauge.builder("gpu_agent.odd", () -> -3).description("NaN, then infinities.").tag("v", "-3").register(registry);
        Gauge.builder("gpu_agent.leased", () -> 1).description("Held.")
                .tag("gpu", "3").tag("UUID", "GPU-x").tag("job", "a \"quoted\" \\ job\nnamed Jürgen").register(registry);
        Gauge.builder("gpu_agent.undescribed", () -> 1).register(registry);
        Counter.builder("gpu_agent.xid.errors").description("XIDs.").tag("gpu", "0").tag("xid", "79").register(registry).increment(3);
        AtomicLong calls = new AtomicLong(41);
        FunctionCounter.builder("gpu_agent.calls", calls, AtomicLong::get).description("Calls.").register(registry);
        Timer sweep = Timer.builder("gpu_agent.sample.duration").description("Sweeps.")
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(250), Duration.ofSeconds(10))
                .register(registry);
        for (long ms : new long[] {0, 3, 3, 100, 20_000}) {
            sweep.record(ms, TimeUnit.MILLISECONDS);
        }
        Timer.builder("gpu_agent.plain").description("No buckets.").tag("kind", "x").register(registry).record(Duration.ofMillis(1500));
        Meter gone = Counter.builder("gpu_agent.gone").description("Removed.").register(registry);
        assertEquals(families(registry.scrape()), families(writer.writeText()));   // the layout is built now
        registry.remove(gone);
        Counter.builder("gpu_agent.xid.errors").description("XIDs.").tag("gpu", "1").tag("xid", "48").register(registry).increment();
        calls.incrementAndGet();
        sweep.record(2, TimeUnit.MILLISECONDS);

        Map<String, List<String>> ours = families(writer.writeText());
        assertEquals(families(registry.scrape()), ours);
        assertEquals(List.of("gpu_agent_before", "gpu_agent_big", "gpu_agent_calls_total", "gpu_agent_leased", "gpu_agent_odd",
                "gpu_agent_plain_seconds", "gpu_agent_plain_seconds_max", "gpu_agent_sample_duration_seconds",
                "gpu_agent_sample_duration_seconds_max", "gpu_agent_snapshot_age_seconds", "gpu_agent_undescribed",
                "gpu_agent_xid_errors_total"), List.copyOf(ours.keySet()));
        assertEquals(5, ours.get("gpu_agent_sample_duration_seconds").stream().filter(l -> l.contains("_bucket{")).count(),
                "the four buckets and +Inf: " + ours.get("gpu_agent_sample_duration_seconds"));
        assertEquals(List.of("# HELP gpu_agent_xid_errors_total XIDs.", "# TYPE gpu_agent_xid_errors_total counter",
                "gpu_agent_xid_errors_total{gpu=\"0\",xid=\"79\",} 3.0", "gpu_agent_xid_errors_total{gpu=\"1\",xid=\"48\",} 1.0"),
                ours.get("gpu_agent_xid_errors_total"), "a meter added after the first scrape is written");
    }

    @Test
    void aTimersTextIsKeptUntilItRecordsAgain() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AgentMetricsWriter writer = new AgentMetricsWriter(registry);
        Timer sweep = Timer.builder("gpu_agent.sample.duration").description("Sweeps.")
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5)).register(registry);
        Timer plain = Timer.builder("gpu_agent.plain").description("No buckets.").register(registry);
        assertEquals(families(registry.scrape()), families(writer.writeText()), "nothing recorded yet");
        for (int i = 1; i <= 3; i++) {
            sweep.record(i * 2, TimeUnit.MILLISECONDS);
            plain.record(Duration.ofMillis(i * 100));
            String first = writer.writeText();
            assertEquals(families(registry.scrape()), families(first), "after record " + i);
            assertEquals(first, writer.writeText(), "the same text again while the timers do not record");
        }
        assertTrue(writer.writeText().contains("gpu_agent_sample_duration_seconds_count 3.0\n"));
    }

    /** Family name (from its HELP line) to its header lines followed by its sorted sample lines. */
    private static Map<String, List<String>> families(String text) {
        Map<String, List<String>> out = new TreeMap<>();
        List<String> current = null;
        List<String> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                if (current != null) {
                    samples.sort(null);
                    current.addAll(samples);
                    samples.clear();
                }
                current = new ArrayList<>();
                out.put(line.substring(7, line.indexOf(' ', 7)), current);
                current.add(line);
            } else if (line.startsWith("# TYPE ")) {
                current.add(line);
            } else if (!line.isEmpty()) {
                samples.add(line);
            }
        }
        if (current != null) {
            samples.sort(null);
            current.addAll(samples);
        }
        return out;
    }
}
