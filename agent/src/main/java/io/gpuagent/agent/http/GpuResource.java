package io.gpuagent.agent.http;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.Snapshot;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.List;

/** {@code /v1/gpus}: inventory and latest readings, from the snapshot (never from NVML directly). */
@Path("/v1/gpus")
@Produces(MediaType.APPLICATION_JSON)
public class GpuResource {

    private final SamplerService sampler;
    private final HealthModel health;

    public GpuResource(SamplerService sampler, HealthModel health) {
        this.sampler = sampler;
        this.health = health;
    }

    public record GpuList(Instant time, long snapshot, boolean nvmlUp, String nvmlDownReason, String driverVersion,
                          List<GpuView> gpus) {
    }

    @GET
    public GpuList list() {
        Snapshot s = sampler.latest();
        Instant now = Instant.now();
        List<GpuHealth> judged = health.gpus();
        List<GpuView> gpus = s.gpus().stream().map(g -> GpuView.of(g, healthOf(judged, g), now)).toList();
        return new GpuList(now, s.sequence(), s.nvmlUp(), s.nvmlDownReason(), s.driverVersion(), gpus);
    }

    @GET
    @Path("/{id}")
    public GpuView one(@PathParam("id") String raw) {
        GpuId id = GpuId.parse(raw);
        GpuSample gpu = id.find(sampler.latest()).orElseThrow(id::notFound);
        return GpuView.of(gpu, healthOf(health.gpus(), gpu), Instant.now());
    }

    private static GpuHealth healthOf(List<GpuHealth> judged, GpuSample gpu) {
        return judged.stream().filter(h -> h.index() == gpu.index()).findFirst().orElse(null);
    }
}
