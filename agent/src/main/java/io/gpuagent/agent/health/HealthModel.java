package io.gpuagent.agent.health;

import io.gpuagent.agent.SamplerService;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Snapshot;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Judges every GPU on each snapshot and the agent itself on each request. The per-GPU verdicts are
 * swapped in whole, so readers never see half an update.
 */
@Startup
@ApplicationScoped
public class HealthModel {

    /** The sampler is stuck when it has not published for this many intervals. */
    static final int STUCK_INTERVALS = 3;

    private final SamplerService sampler;
    private final Clock clock;
    private final Map<String, Instant> since = new ConcurrentHashMap<>();
    private volatile List<GpuHealth> gpus = List.of();
    private volatile int mostGpusSeen;

    public HealthModel(SamplerService sampler) {
        this.sampler = sampler;
        this.clock = Clock.systemUTC();
        sampler.onSnapshot(this::judge);
    }

    void judge(Snapshot snapshot) {
        List<GpuHealth> judged = new ArrayList<>(snapshot.gpus().size());
        for (GpuSample gpu : snapshot.gpus()) {
            judged.add(judge(gpu, snapshot.takenAt()));
        }
        mostGpusSeen = Math.max(mostGpusSeen, snapshot.deviceCount());
        gpus = List.copyOf(judged);
    }

    private GpuHealth judge(GpuSample gpu, Instant now) {
        List<Reason> reasons = new ArrayList<>();
        HealthState state = switch (gpu.status()) {
            case OK -> HealthState.HEALTHY;
            case STALE -> {
                reasons.add(Reason.of("sampler", "READINGS_STALE", HealthState.DEGRADED,
                        "readings are stale: " + gpu.statusReason(),
                        "an NVML call on this GPU is hanging; check dmesg for XIDs and nvidia-smi for this GPU", now));
                yield HealthState.DEGRADED;
            }
            case LOST -> {
                reasons.add(Reason.of("lost", "GPU_IS_LOST", HealthState.LOST,
                        "GPU is lost: " + gpu.statusReason(),
                        "drain the node and reboot it; if it repeats, inspect the GPU hardware", now));
                yield HealthState.LOST;
            }
        };
        String key = gpu.uuid().isEmpty() ? "index:" + gpu.index() : gpu.uuid();
        Instant stateSince = since.compute(key + "/" + state, (k, v) -> v == null ? now : v);
        for (HealthState other : HealthState.values()) {
            if (other != state) {
                since.remove(key + "/" + other);
            }
        }
        return new GpuHealth(gpu.index(), gpu.uuid(), gpu.info().name(), state, stateSince, reasons);
    }

    public List<GpuHealth> gpus() {
        return gpus;
    }

    /** The whole picture at {@code now}: the agent's own problems are judged here, at request time. */
    public HealthReport report() {
        Instant now = clock.instant();
        Snapshot snapshot = sampler.latest();
        List<HealthReport.Problem> problems = new ArrayList<>();
        if (!snapshot.nvmlUp()) {
            problems.add(new HealthReport.Problem("nvml", snapshot.nvmlDownReason()));
        }
        Duration interval = sampler.config().sampleInterval();
        Duration sinceSweep = Duration.between(snapshot.takenAt(), now);
        if (sinceSweep.compareTo(interval.multipliedBy(STUCK_INTERVALS)) > 0) {
            problems.add(new HealthReport.Problem("sampler", "no snapshot for " + sinceSweep.toMillis()
                    + " ms (" + STUCK_INTERVALS + " intervals of " + interval.toMillis()
                    + " ms); the sampler is stuck: restart the agent and check NVML (nvidia-smi)"));
        }
        int seen = mostGpusSeen;
        if (snapshot.nvmlUp() && snapshot.deviceCount() < seen) {
            problems.add(new HealthReport.Problem("gpus", "the driver reports " + snapshot.deviceCount()
                    + " GPUs, " + seen + " since the agent started: a GPU vanished; check dmesg for XID 79 and reboot"));
        }
        return HealthReport.of(now, snapshot, sampler.config().nvml().library(), problems, gpus);
    }
}
