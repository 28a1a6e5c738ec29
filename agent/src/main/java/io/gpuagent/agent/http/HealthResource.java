package io.gpuagent.agent.http;

import io.gpuagent.agent.health.GpuHealth;
import io.gpuagent.agent.health.HealthModel;
import io.gpuagent.agent.health.HealthReport;
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
 * {@code /health}: 200 when every GPU is HEALTHY or DEGRADED and the agent works, 503 otherwise, with the
 * reasons in JSON. {@code curl -fsS localhost:9400/health} is the node check for Slurm or cron.
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

    @GET
    @Path("/gpus/{id}")
    public Response gpu(@PathParam("id") String raw) {
        GpuId id = GpuId.parse(raw);
        HealthReport report = health.report();
        if (!report.nvml().up()) {
            return Problem.response(503, "Service Unavailable", "GPU " + id + " cannot be judged: "
                    + (report.reason() == null ? "NVML is down" : report.reason()));
        }
        GpuHealth gpu = report.gpus().stream().filter(g -> id.matches(g.index(), g.uuid())).findFirst()
                .orElseThrow(id::notFound);
        return Response.status(gpu.state().serving() ? 200 : 503).entity(gpu).build();
    }
}
