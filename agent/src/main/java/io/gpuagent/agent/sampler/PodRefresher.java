package io.gpuagent.agent.sampler;

import io.gpuagent.agent.kubelet.KubeletFailure;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.kubelet.PodMapping;
import io.gpuagent.agent.kubelet.PodResources;
import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;
import io.gpuagent.exporter.Snapshot;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Asks the kubelet which pods hold which GPUs every refresh interval, on its own thread ({@code kubelet-pods}),
 * and publishes a good answer to {@link PodAttribution}. A failed call (socket missing, deadline, answer too
 * large, garbage) publishes nothing: the last good map stays, and its age shows in
 * {@code gpu_agent_kubelet_mapping_age_seconds}. Nothing on a scrape or request path ever waits for this.
 *
 * <p>After a good {@code List} it also asks {@code GetAllocatableResources}, which devices the kubelet offers for
 * allocation: the map carries them when the kubelet answered, and nothing is lost when it did not. A kubelet that
 * does not have the call (before Kubernetes 1.23, or with its feature gate off) is not asked again.
 *
 * <p>Logs once per change of state (working, or failing for a reason), saying what to do next.
 */
public final class PodRefresher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PodRefresher.class);

    /** What one refresh did. */
    public sealed interface Outcome {
        /** A good answer, published. */
        record Published(PodMap map, int unresolved) implements Outcome { }

        /** The kubelet answered, but the sampler has no GPUs yet to resolve it against: nothing published. */
        record NoGpus() implements Outcome { }

        /** No usable answer: nothing published. */
        record Failed(KubeletFailure failure) implements Outcome { }
    }

    private final PodResources kubelet;
    private final PodMapping mapping;
    private final Supplier<Snapshot> snapshots;
    private final PodAttribution attribution;
    private final Clock clock;
    private final Duration interval;
    private final Map<KubeletFailure.Reason, Counter> failures = new EnumMap<>(KubeletFailure.Reason.class);

    private String state = "";   // the last logged state: "ok", "unresolved", "no_gpus" or a failure's label
    private String allocatableState = "";   // the same for GetAllocatableResources: "ok" or a failure's label
    private boolean allocatableMissing;     // the kubelet answered UNIMPLEMENTED: never asked again
    private Thread thread;
    private volatile boolean stopped;

    public PodRefresher(PodResources kubelet, PodMapping mapping, Supplier<Snapshot> snapshots,
                        PodAttribution attribution, MeterRegistry meters, Clock clock, Duration interval) {
        this.kubelet = Objects.requireNonNull(kubelet, "kubelet");
        this.mapping = Objects.requireNonNull(mapping, "mapping");
        this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
        this.attribution = Objects.requireNonNull(attribution, "attribution");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("gpu-agent.kubelet.refresh-interval must be positive, not " + interval);
        }
        this.interval = interval;
        for (KubeletFailure.Reason reason : KubeletFailure.Reason.values()) {
            failures.put(reason, Counter.builder("gpu_agent.kubelet.refresh.failures")
                    .tag("reason", reason.label())
                    .description("Refreshes of the pod attribution that got no usable answer from the kubelet.")
                    .register(meters));
        }
        Gauge.builder("gpu_agent.kubelet.mapping.age", this, PodRefresher::ageSeconds).baseUnit("seconds")
                .description("Seconds since the kubelet's last good answer (NaN before the first).")
                .register(meters);
        Gauge.builder("gpu_agent.kubelet.attributed.devices", attribution, a -> a.current().devices().size())
                .description("GPUs and MIG devices the kubelet's last good answer says a container holds.")
                .register(meters);
        Gauge.builder("gpu_agent.kubelet.allocatable.devices", attribution,
                        a -> a.current().allocatable().map(d -> (double) d.size()).orElse(Double.NaN))
                .description("This node's GPUs and MIG devices the kubelet offers for allocation (its"
                        + " GetAllocatableResources) in its last good answer; NaN when not known.")
                .register(meters);
    }

    /** Starts the {@code kubelet-pods} thread: a refresh now, then one every interval. */
    public synchronized void start() {
        if (thread == null) {
            thread = Thread.ofPlatform().name("kubelet-pods").daemon().start(this::run);
        }
    }

    private void run() {
        while (!stopped) {
            try {
                refreshOnce();
            } catch (RuntimeException e) {
                // A bug here must not end attribution for the process' life: log it and try again next time.
                LOG.errorf(e, "pod attribution: refresh failed unexpectedly; the last good pod map stays");
            }
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One refresh on the calling thread: ask, map, publish when good. */
    public Outcome refreshOnce() {
        Outcome outcome;
        try {
            ListPodResourcesResponse answer = kubelet.list();
            Snapshot snapshot = snapshots.get();
            if (snapshot.gpus().isEmpty()) {
                outcome = new Outcome.NoGpus();
            } else {
                PodMapping.Result result = mapping.map(answer, offered(), snapshot);
                attribution.publish(result.map(), clock.instant());
                outcome = new Outcome.Published(result.map(), result.unresolved());
            }
        } catch (KubeletFailure failure) {
            if (stopped) {
                return new Outcome.Failed(failure);   // the call was cut short by close(), not by the kubelet
            }
            failures.get(failure.reason()).increment();
            outcome = new Outcome.Failed(failure);
        }
        logChange(outcome);
        return outcome;
    }

    /** The kubelet's allocatable devices, when it has the call and answers it this time. */
    private Optional<AllocatableResourcesResponse> offered() {
        if (allocatableMissing) {
            return Optional.empty();
        }
        try {
            AllocatableResourcesResponse offered = kubelet.allocatable();
            if (!allocatableState.equals("ok")) {
                allocatableState = "ok";
                LOG.infof("pod attribution: the kubelet offers %d devices for allocation (GetAllocatableResources)",
                        offered.getDevicesCount());
            }
            return Optional.of(offered);
        } catch (KubeletFailure failure) {
            if (stopped) {
                return Optional.empty();   // cut short by close()
            }
            if (failure.status() == KubeletFailure.UNIMPLEMENTED) {
                allocatableMissing = true;
                LOG.infof("pod attribution: the kubelet has no GetAllocatableResources (Kubernetes before 1.23, or"
                        + " the KubeletPodResourcesGetAllocatable feature gate off); pod labels are unaffected, and"
                        + " gpu_agent_kubelet_allocatable_devices stays NaN");
            } else if (!allocatableState.equals(failure.reason().label())) {
                allocatableState = failure.reason().label();
                LOG.warnf("pod attribution: the kubelet's allocatable devices are unknown this time (%s); pod labels"
                        + " are unaffected. %s", failure.getMessage(), advice(failure));
            }
            return Optional.empty();
        }
    }

    private void logChange(Outcome outcome) {
        String now = switch (outcome) {
            case Outcome.Published p -> p.unresolved() > 0 ? "unresolved" : "ok";
            case Outcome.NoGpus n -> "no_gpus";
            case Outcome.Failed f -> f.failure().reason().label();
        };
        if (now.equals(state)) {
            return;
        }
        state = now;
        switch (outcome) {
            case Outcome.Published p when p.unresolved() > 0 -> LOG.warnf("pod attribution: the kubelet names %d"
                    + " GPU device ids this node does not have or in a form not read (gpu-agent.kubelet.gpu-id-type=%s);"
                    + " %d devices are attributed. Check gpu-id-type against the device plugin's ids (docs/kubernetes.md)",
                    p.unresolved(), mapping.idType().name().toLowerCase().replace('_', '-'), p.map().devices().size());
            case Outcome.Published p -> LOG.infof("pod attribution: the kubelet answers; %d GPU devices held by pods",
                    p.map().devices().size());
            case Outcome.NoGpus n -> LOG.infof("pod attribution: waiting for the first GPU readings before using the"
                    + " kubelet's answer");
            case Outcome.Failed f -> LOG.warnf("pod attribution: %s; GPU series keep the last good pod labels (see"
                    + " gpu_agent_kubelet_mapping_age_seconds). %s", f.failure().getMessage(), advice(f.failure()));
        }
    }

    private static String advice(KubeletFailure failure) {
        return switch (failure.reason()) {
            case SOCKET_MISSING -> "Mount the kubelet's pod-resources directory (hostPath /var/lib/kubelet/pod-resources)"
                    + " or set gpu-agent.kubelet.socket; the agent retries every refresh interval";
            case DEADLINE -> "The kubelet is slow; raise gpu-agent.kubelet.deadline if this persists";
            case TOO_LARGE -> "Raise gpu-agent.kubelet.max-answer-bytes if this node really runs that many pods";
            case UNAVAILABLE -> "Is the kubelet running? The agent reconnects when its socket comes back";
            case ERROR -> "Check the kubelet's version (pod-resources v1 is needed) and the agent's access to the socket";
        };
    }

    private double ageSeconds() {
        return attribution.last()
                .map(p -> Duration.between(p.at(), clock.instant()).toMillis() / 1000.0)
                .orElse(Double.NaN);
    }

    @Override
    public void close() {
        stopped = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        kubelet.close();
    }
}
