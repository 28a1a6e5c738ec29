package io.gpuagent.agent.health;

import io.gpuagent.agent.AgentConfig;
import io.gpuagent.agent.health.detect.NodeSample;
import io.gpuagent.agent.host.Adjtimex;
import io.gpuagent.agent.host.HostReader;
import io.gpuagent.agent.host.HostSample;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.Snapshot;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Runs the node checks on their own schedule (docs/node-health.md), not per scrape: every
 * {@code gpu-agent.health.node.interval} one platform thread reads the host into a {@link HostSample}, waited for
 * at most {@code node.deadline}; the health model judges it with the GPUs' latest snapshot. A read that misses its
 * deadline is reported (host_read) and not started again until it returns, so a hung file system costs one thread.
 */
@ApplicationScoped
public class NodeSweep {

    private static final Logger LOG = Logger.getLogger(NodeSweep.class);

    private final HealthModel health;
    private final SamplerService sampler;
    private final HealthConfig config;
    private final HostReader reader;
    private final ExpectedTopology expected;
    private final Clock clock = Clock.systemUTC();
    private ScheduledExecutorService schedule;
    private ExecutorService reads;
    private Future<HostSample> pending;   // only on the schedule thread
    private Instant pendingSince;

    public NodeSweep(HealthModel health, SamplerService sampler, HealthConfig config, AgentConfig agent) {
        this.health = health;
        this.sampler = sampler;
        this.config = config;
        this.reader = new HostReader(config.node().root(), agent.stateDir(), new Adjtimex());
        this.expected = new ExpectedTopology(config.expectedGpus(), config.nvlink().expectedLinks(), agent.stateDir());
    }

    /**
     * The expected topology of a configuration reload ({@code expected-gpus}, {@code nvlink.expected-links}), as a
     * change to apply; the node checks' thresholds reload with the health model. Where and how often the checks
     * read ({@code node.enabled}, {@code interval}, {@code deadline}, {@code root}) take a restart.
     */
    public Runnable prepare(HealthConfig next) {
        var gpus = next.expectedGpus();
        var links = next.nvlink().expectedLinks();
        if (gpus.isPresent() && gpus.getAsInt() < 1 || links.isPresent() && links.getAsInt() < 0) {
            throw new IllegalArgumentException("gpu-agent.health.expected-gpus must be at least 1 and "
                    + "gpu-agent.health.nvlink.expected-links not negative");
        }
        return () -> expected.configure(gpus, links);
    }

    void start(@Observes StartupEvent event) {
        if (!config.node().enabled()) {
            LOG.info("node checks off (gpu-agent.health.node.enabled=false)");
            return;
        }
        schedule = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("gpu-agent-node-checks")
                .daemon().factory());
        reads = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("gpu-agent-host-read").daemon().factory());
        long every = config.node().interval().toMillis();
        schedule.scheduleWithFixedDelay(this::sweep, Math.min(every, 5_000), every, TimeUnit.MILLISECONDS);
        LOG.infof("node checks every %s (read deadline %s) under root %s", config.node().interval(),
                config.node().deadline(), config.node().root());
    }

    void stop(@Observes ShutdownEvent event) {
        if (schedule != null) {
            schedule.shutdownNow();
            reads.shutdownNow();
        }
    }

    private void sweep() {
        try {
            Snapshot snapshot = sampler.latest();
            if (snapshot.sequence() == 0) {
                return;   // no sweep of the GPUs yet: nothing to compare the host with
            }
            HostSample host = read();
            ExpectedTopology.Expected e = expected.expected(snapshot, true);
            health.judgeNode(new NodeSample(host, snapshot, e.gpus(), e.nvLinks()));
        } catch (RuntimeException e) {
            LOG.errorf(e, "node sweep failed; the next runs in %s", config.node().interval());
        }
    }

    private HostSample read() {
        Instant now = clock.instant();
        if (pending == null) {
            pending = reads.submit(() -> reader.read(clock.instant()));
            pendingSince = now;
        }
        try {
            HostSample s = pending.get(config.node().deadline().toMillis(), TimeUnit.MILLISECONDS);
            pending = null;
            return s;
        } catch (TimeoutException e) {
            return HostSample.unread(now, "the host read started " + Duration.between(pendingSince, now).toSeconds()
                    + " s ago has not finished (deadline " + config.node().deadline() + "): a read of /proc or /sys hangs");
        } catch (ExecutionException e) {
            pending = null;
            return HostSample.unread(now, "the host read failed: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return HostSample.unread(now, "interrupted");
        }
    }
}
