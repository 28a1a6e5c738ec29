package io.gpuagent.agent.http;

import io.gpuagent.agent.health.DeviceHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.HealthReport;
import io.gpuagent.agent.health.NodeHealth;
import io.gpuagent.agent.health.detect.HealthState;
import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.journal.JournalWatch;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /health}: 200 when every GPU and MIG device is HEALTHY or DEGRADED and the agent works, 503 otherwise,
 * with the reasons in JSON. {@code curl -fsS localhost:9400/health} is the node check for Slurm or cron.
 * {@code /health/node}: the node checks alone (docs/node-health.md).
 * {@code /health/gpus/{id}}: one GPU, or one MIG device by {@code MIG-} UUID or address
 * ({@code /health/gpus/0/2}, {@code /health/gpus/0/2/1}).
 */
@Path("/health")
@Produces(MediaType.APPLICATION_JSON)
public class HealthResource {

    private final HealthModel health;
    private final JournalWatch journals;

    public HealthResource(HealthModel health, JournalWatch journals) {
        this.health = health;
        this.journals = journals;
    }

    @GET
    public Response node() {
        // A journal that takes no records means no lease, action or event can be recorded: the node is not fit.
        List<HealthReport.Problem> failed = new ArrayList<>();
        journals.failures().forEach((name, why) -> failed.add(new HealthReport.Problem("journal " + name, why)));
        HealthReport report = health.report().withProblems(failed);
        return Response.status(report.healthy() ? 200 : 503).entity(report).build();
    }

    /** The node checks' verdict (docs/node-health.md): 200 while the node serves (HEALTHY, DEGRADED), else 503. */
    @GET
    @Path("/node")
    public Response nodeChecks() {
        NodeHealth n = health.node();
        return Response.status(n.state() == HealthState.INITIALIZING || n.state().serving() ? 200 : 503).entity(n).build();
    }

    @GET
    @Path("/gpus/{id}")
    public Response gpu(@PathParam("id") String raw) {
        return device(GpuId.parse(raw));
    }

    @GET
    @Path("/gpus/{id}/{gi: [0-9]+}")
    public Response gpuInstance(@PathParam("id") String gpu, @PathParam("gi") String gi) {
        return device(GpuId.parse(gpu, gi, null));
    }

    @GET
    @Path("/gpus/{id}/{gi: [0-9]+}/{ci: [0-9]+}")
    public Response computeInstance(@PathParam("id") String gpu, @PathParam("gi") String gi, @PathParam("ci") String ci) {
        return device(GpuId.parse(gpu, gi, ci));
    }

    /** One GPU's or MIG device's health: 200 while it serves (HEALTHY, DEGRADED), else 503. */
    private Response device(GpuId id) {
        HealthReport report = health.report();
        if (!report.nvml().up()) {
            return Problem.response(503, "Service Unavailable", (id.mig() ? "MIG device " : "GPU ") + id
                    + " cannot be judged: " + (report.reason() == null ? "NVML is down" : report.reason()));
        }
        DeviceHealth device = id.mig() ? id.findMigHealth(report.gpus()).orElseThrow(id::notFound)
                : id.findHealth(report.gpus()).orElseThrow(id::notFound);
        return Response.status(device.state().serving() ? 200 : 503).entity(device).build();
    }
}
