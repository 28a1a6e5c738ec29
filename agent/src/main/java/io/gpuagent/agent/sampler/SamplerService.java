package io.gpuagent.agent.sampler;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.AgentRegistry;
import io.gpuagent.agent.journal.JournalWatch;
import io.gpuagent.agent.nvml.NvmlConnector;
import io.gpuagent.agent.nvml.ShutdownOrder;
import io.gpuagent.exporter.CountersFile;
import io.gpuagent.exporter.DcgmFeed;
import io.gpuagent.exporter.DcgmSettings;
import io.gpuagent.exporter.FieldSources;
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
import java.util.Optional;
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
    private final AgentConfig config;
    private final GpuDecorator decorator;
    private final DcgmSettings dcgm;
    private final Set<Reading> dcgmReadings;   // what DCGM was told to read at start: fixed until a restart
    private final Set<Integer> dcgmFields;
    private volatile GpuMetricsWriter writer;  // swapped whole by a reload, between two renders

    /**
     * {@code xids} decorates the GPU family with the last XID and the count of each XID per GPU (the health
     * model records them), {@code jobs} with {@code hpc_job} on leased GPUs (the lease book publishes them),
     * {@code pods} with {@code pod}/{@code namespace}/{@code container} of the containers the kubelet says hold them;
     * the {@code journals} are looked at after each sweep, so that watching them costs no thread of its own
     * while they work. Without {@code gpu-agent.counters-file} the bundled set {@code gpu-agent.metrics.default-set}
     * names is served.
     */
    public SamplerService(AgentConfig config, NvmlConnector nvml, AgentRegistry agentRegistry, XidLedger xids,
                          HpcJobLabels jobs, PodLabels pods, JournalWatch journals) {
        this.config = config;
        this.dcgm = dcgmSettings(config.dcgm());
        CountersFile counters = counters(config, dcgm.on());
        List<MetricDef> metrics = counters.metrics();
        Set<Reading> readings = readings(metrics);
        this.dcgmReadings = readings;
        SamplerSettings settings = new SamplerSettings(config.sampleInterval(), config.gpuDeadline(), readings,
                config.hostname().orElse(null));
        this.dcgmFields = dcgmFields(metrics);
        this.sampler = new Sampler(nvml, settings, dcgm.withFields(dcgmFields), agentRegistry.registry(),
                Clock.systemUTC());
        this.decorator = GpuDecorator.combine(xids, GpuDecorator.combine(jobs, pods));
        this.writer = new GpuMetricsWriter(metrics, config.hostnameLabel(), settings.hostname(), decorator);
        if (dcgm.on()) {
            // Only with DCGM on: without it every series is NVML's, and the footprint stays as it was.
            new FieldSources(agentRegistry.registry(), writer.metrics(), true, sampler::latest);
            LOG.infof("DCGM %s (%s): profiling %s, DCGM-only fields %s; health watches and policies feed the "
                    + "dcgm detector", dcgm.mode().name().toLowerCase(java.util.Locale.ROOT),
                    dcgm.mode() == DcgmSettings.Mode.REMOTE ? dcgm.address() : dcgm.library(),
                    dcgm.profiling().name().toLowerCase(java.util.Locale.ROOT), dcgmFields);
        } else {
            LOG.info("DCGM off (gpu-agent.dcgm.mode=off): NVML only, no DCGM library loaded");
        }
        LOG.infof("sampling %d GPU metrics (%s) every %s (gpu deadline %s)", metrics.size(), counters.source(),
                config.sampleInterval(), config.gpuDeadline());
        // Render the GPU family on the sampler thread, so no scrape pays for it.
        sampler.onSnapshot(snapshot -> writer.render(snapshot));
        sampler.onSnapshot(snapshot -> journals.afterSweep());
        nvml.onOpened(sampler::sweepSoon);   // the first good readings follow NVML's start at once
        sampler.start();
    }

    private static CountersFile counters(AgentConfig config, boolean dcgm) {
        CountersFile counters = config.countersFile().map(f -> CountersFile.parse(f, dcgm))
                .orElseGet(() -> CountersFile.bundled(config.metrics().defaultSet(), dcgm));
        if (config.countersFile().isPresent() && config.metrics().defaultSet() != DefaultSet.LEGACY) {
            LOG.warnf("gpu-agent.metrics.default-set=%s is not used: gpu-agent.counters-file %s chooses the GPU metrics",
                    config.metrics().defaultSet().configValue(), counters.source());
        }
        return counters;
    }

    private static Set<Reading> readings(List<MetricDef> metrics) {
        Set<Reading> readings = EnumSet.copyOf(MetricCatalog.readingsFor(metrics));
        readings.addAll(Reading.health());
        // Usage accounting (docs/usage.md): the energy counter rides in the field batch the sweep makes anyway,
        // utilisation is one call; both are in the bundled sets already, a counters file may leave them out.
        readings.add(Reading.TOTAL_ENERGY_MJ);
        readings.add(Reading.GPU_UTIL_PCT);
        return readings;
    }

    private static Set<Integer> dcgmFields(List<MetricDef> metrics) {
        Set<Integer> fields = new java.util.TreeSet<>();
        metrics.stream().filter(MetricDef::isDcgmField).forEach(m -> fields.add(m.dcgmFieldId()));
        return fields;
    }

    /** A GPU metric set read from a (reloaded) configuration, checked and rendered-ready but not in use yet. */
    public record MetricSet(String source, GpuMetricsWriter writer, Set<Reading> readings) {
    }

    /**
     * The metric set {@code next} chooses (its counters file read again), or empty when it is the set in use.
     * Nothing changes until {@link #use}. A file that does not parse throws its {@code CountersFileException};
     * with DCGM on, a set that needs DCGM fields or readings DCGM was not told to watch at start throws too
     * (DCGM's watches are set up once: that needs a restart).
     */
    public Optional<MetricSet> prepare(AgentConfig next) {
        CountersFile counters = counters(next, dcgm.on());
        List<MetricDef> metrics = counters.metrics();
        if (metrics.equals(writer.metrics())) {
            return Optional.empty();
        }
        Set<Reading> readings = readings(metrics);
        if (dcgm.on() && (!dcgmFields.containsAll(dcgmFields(metrics)) || !dcgmReadings.containsAll(readings))) {
            throw new IllegalArgumentException(counters.source() + " needs DCGM fields or readings the agent did not "
                    + "watch at start (DCGM's watches are set once): restart the agent to use it");
        }
        return Optional.of(new MetricSet(counters.source(), new GpuMetricsWriter(metrics, config.hostnameLabel(),
                sampler.settings().hostname(), decorator), readings));
    }

    /**
     * Serves {@code set} from now on: its readings are asked for, it renders the latest snapshot before it
     * replaces the old writer (a scrape sees one set or the other, never none), and a sweep follows at once
     * so the new series get fresh values within one sweep.
     */
    public void use(MetricSet set) {
        sampler.request(set.readings());
        set.writer().render(sampler.latest());
        writer = set.writer();
        LOG.infof("sampling %d GPU metrics (%s) after a configuration reload", set.writer().metrics().size(),
                set.source());
        sampler.sweepSoon();
    }

    static DcgmSettings dcgmSettings(AgentConfig.Dcgm c) {
        return new DcgmSettings(c.mode(), c.library(), c.address(), c.profiling(), c.connectTimeout(),
                c.reconnectMaxDelay(), Set.of());
    }

    /** The DCGM side of the sampler, when {@code gpu-agent.dcgm.mode} is not off. */
    public Optional<DcgmFeed> dcgm() {
        return sampler.dcgm();
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
