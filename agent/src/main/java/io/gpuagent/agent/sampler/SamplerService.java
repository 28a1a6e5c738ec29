package io.gpuagent.agent.sampler;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.journal.JournalWatch;
import io.gpuagent.agent.nvml.NvmlConnector;
import io.gpuagent.agent.nvml.ShutdownOrder;
import io.gpuagent.exporter.CountersFile;
import io.gpuagent.exporter.DefaultSet;
import io.gpuagent.exporter.GpuDecorator;
import io.gpuagent.exporter.GpuMetricsWriter;
import io.gpuagent.exporter.MetricCatalog;
import io.gpuagent.exporter.MetricDef;
import io.gpuagent.exporter.Reading;
import io.gpuagent.exporter.Sampler;
import io.gpuagent.exporter.SamplerSettings;
import io.gpuagent.exporter.Snapshot;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Owns the sampler thread and the GPU family's writer. Everything that wants readings (scrapes,
 * health, the API) asks {@link #latest()}; nothing on a request path calls NVML.
 */
@Startup
@ApplicationScoped
public class SamplerService {

    private static final Logger LOG = Logger.getLogger(SamplerService.class);

    private final Sampler sampler;
    private final GpuMetricsWriter writer;
    private final AgentConfig config;

    /**
     * {@code xids} decorates the GPU family with the last XID and the count of each XID per GPU (the health
     * model records them), {@code jobs} with {@code hpc_job} on leased GPUs (the lease book publishes them);
     * the {@code journals} are looked at after each sweep, so that watching them costs no thread of its own
     * while they work. Without {@code gpu-agent.counters-file} the bundled set {@code gpu-agent.metrics.default-set}
     * names is served.
     */
    public SamplerService(AgentConfig config, NvmlConnector nvml, AgentRegistry agentRegistry, XidLedger xids,
                          HpcJobLabels jobs, JournalWatch journals) {
        this.config = config;
        CountersFile counters = config.countersFile().map(CountersFile::parse)
                .orElseGet(() -> CountersFile.bundled(config.metrics().defaultSet()));
        if (config.countersFile().isPresent() && config.metrics().defaultSet() != DefaultSet.LEGACY) {
            LOG.warnf("gpu-agent.metrics.default-set=%s is not used: gpu-agent.counters-file %s chooses the GPU metrics",
                    config.metrics().defaultSet().configValue(), counters.source());
        }
        List<MetricDef> metrics = counters.metrics();
        Set<Reading> readings = EnumSet.copyOf(MetricCatalog.readingsFor(metrics));
        readings.addAll(Reading.health());
        // Usage accounting (docs/usage.md): the energy counter rides in the field batch the sweep makes anyway,
        // utilisation is one call; both are in the bundled sets already, a counters file may leave them out.
        readings.add(Reading.TOTAL_ENERGY_MJ);
        readings.add(Reading.GPU_UTIL_PCT);
        SamplerSettings settings = new SamplerSettings(config.sampleInterval(), config.gpuDeadline(), readings,
                config.hostname().orElse(null));
        this.sampler = new Sampler(nvml, settings, agentRegistry.registry(), Clock.systemUTC());
        this.writer = new GpuMetricsWriter(metrics, config.hostnameLabel(), settings.hostname(),
                GpuDecorator.combine(xids, jobs));
        LOG.infof("sampling %d GPU metrics (%s) every %s (gpu deadline %s)", metrics.size(), counters.source(),
                config.sampleInterval(), config.gpuDeadline());
        // Render the GPU family on the sampler thread, so no scrape pays for it.
        sampler.onSnapshot(writer::render);
        sampler.onSnapshot(snapshot -> journals.afterSweep());
        nvml.onOpened(sampler::sweepSoon);   // the first good readings follow NVML's start at once
        sampler.start();
    }

    void stop(@Observes @Priority(ShutdownOrder.SAMPLER) ShutdownEvent event) {
        sampler.close();
    }

    public Snapshot latest() {
        return sampler.latest();
    }

    /** Runs one sweep now on the calling thread (after a sweep in progress) and returns what it published. */
    public Snapshot sweepNow() {
        return sampler.sweepNow();
    }

    /** Starts the next sweep now rather than at its time (see {@link Sampler#sweepSoon()}). */
    public void sweepSoon() {
        sampler.sweepSoon();
    }

    /** Called on the sampler thread after every sweep. */
    public void onSnapshot(Consumer<Snapshot> listener) {
        sampler.onSnapshot(listener);
    }

    public GpuMetricsWriter writer() {
        return writer;
    }

    public AgentConfig config() {
        return config;
    }

    /** The node's name: gpu-agent.hostname, else this machine's host name (the GPU series' host label). */
    public String hostname() {
        return sampler.settings().hostname();
    }
}
