package io.gpuagent.agent.sampler;

import io.gpuagent.exporter.GpuDecorator;
import io.gpuagent.exporter.GpuInfo;
import io.gpuagent.exporter.MigInstance;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code hpc_job="<jobId>"} on every GPU series of a leased GPU, as dcgm-exporter adds it for GPUs it has
 * a job mapping for (and leaves it off the others). The lease book publishes its GPU-to-job map here; this
 * depends on nothing, so the sampler can use it without a cycle through the lease book.
 *
 * <p>A lease of a MIG device holds its {@code MIG-} UUID: that GPU instance's series carry the job, its
 * siblings' do not, and neither does anything of the parent (a GPU in MIG mode is never leased whole).
 */
@Singleton
public class HpcJobLabels implements GpuDecorator {

    static final String LABEL = "hpc_job";

    private final AtomicLong version = new AtomicLong();
    private volatile Map<String, String> jobByGpu = Map.of();

    /** Replaces the map (GPU or {@code MIG-} UUID to job id); a change re-renders the GPU family. */
    public void publish(Map<String, String> jobs) {
        if (!jobs.equals(jobByGpu)) {
            jobByGpu = Map.copyOf(jobs);
            version.incrementAndGet();   // after the write: a render that saw the old version renders again
        }
    }

    @Override
    public long version() {
        return version.get();
    }

    @Override
    public Map<String, String> extraLabels(GpuInfo gpu) {
        return labels(gpu.uuid());
    }

    @Override
    public Map<String, String> extraLabels(GpuInfo gpu, MigInstance mig) {
        return labels(mig.uuid());
    }

    private Map<String, String> labels(String uuid) {
        String job = jobByGpu.get(uuid);
        return job == null ? Map.of() : Map.of(LABEL, job);
    }
}
