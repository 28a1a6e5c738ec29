package io.gpuagent.agent.http;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.kubelet.PodMap;
import io.gpuagent.agent.sampler.PodAttribution;
import io.gpuagent.agent.sampler.SamplerService;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Snapshot;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.List;

/**
 * {@code /v1/gpus}: inventory and latest readings, from the snapshot (never from NVML directly). A MIG device is
 * {@code /v1/gpus/<gpu>/<gi>}, {@code /v1/gpus/<gpu>/<gi>/<ci>} (compute instances other than 0) or
 * {@code /v1/gpus/MIG-...} ({@link GpuId}); its GPU lists it under {@code migDevices}.
 */
@Path("/v1/gpus")
@Produces(MediaType.APPLICATION_JSON)
public class GpuResource {

    private final SamplerService sampler;
    private final HealthModel health;
    private final PodAttribution pods;

    public GpuResource(SamplerService sampler, HealthModel health, PodAttribution pods) {
        this.sampler = sampler;
        this.health = health;
        this.pods = pods;
    }

    public record GpuList(Instant time, long snapshot, boolean nvmlUp, String nvmlDownReason, String driverVersion,
                          List<GpuView> gpus) {
    }

    @GET
    public GpuList list() {
        Snapshot s = sampler.latest();
        Instant now = Instant.now();
        List<GpuHealth> judged = health.gpus();
        PodMap held = pods.current();
        List<GpuView> gpus = s.gpus().stream().map(g -> GpuView.of(g, healthOf(judged, g), now, held)).toList();
        return new GpuList(now, s.sequence(), s.nvmlUp(), s.nvmlDownReason(), s.driverVersion(), gpus);
    }

    /** One GPU ({@link GpuView}), or one MIG device by its {@code MIG-} UUID ({@link MigView}). */
    @GET
    @Path("/{id}")
    public Response one(@PathParam("id") String raw) {
        return device(GpuId.parse(raw));
    }

    /** The MIG device at {@code <id>/<gi>} (compute instance 0). */
    @GET
    @Path("/{id}/{gi: [0-9]+}")
    public Response gpuInstance(@PathParam("id") String gpu, @PathParam("gi") String gi) {
        return device(GpuId.parse(gpu, gi, null));
    }

    /** The MIG device at {@code <id>/<gi>/<ci>}. */
    @GET
    @Path("/{id}/{gi: [0-9]+}/{ci: [0-9]+}")
    public Response computeInstance(@PathParam("id") String gpu, @PathParam("gi") String gi, @PathParam("ci") String ci) {
        return device(GpuId.parse(gpu, gi, ci));
    }

    private Response device(GpuId id) {
        Snapshot s = sampler.latest();
        if (id.mig()) {
            MigSample mig = id.findMig(s).orElseThrow(id::notFound);
            return Response.ok(MigView.of(mig, health.migDevice(mig.uuid()).orElse(null), pods.current())).build();
        }
        GpuSample gpu = id.find(s).orElseThrow(id::notFound);
        return Response.ok(GpuView.of(gpu, healthOf(health.gpus(), gpu), Instant.now(), pods.current())).build();
    }

    private static GpuHealth healthOf(List<GpuHealth> judged, GpuSample gpu) {
        return judged.stream().filter(h -> h.index() == gpu.index()).findFirst().orElse(null);
    }
}
