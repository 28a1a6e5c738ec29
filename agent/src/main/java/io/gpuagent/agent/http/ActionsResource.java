package io.gpuagent.agent.http;

import io.gpuagent.agent.http.problem.Problem;
import io.gpuagent.agent.recovery.ActionAudit;
import io.gpuagent.agent.recovery.ActionRecord;
import io.gpuagent.agent.recovery.ActionView;
import io.gpuagent.agent.recovery.RecoveryEngine;
import io.smallrye.common.annotation.NonBlocking;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * The audit log, read-only and open: {@code GET /v1/actions?gpu=&limit=&before=} (the newest {@code limit} lines,
 * 1..1000, default 100, oldest first; {@code gpu} an index or UUID; {@code before=<id>} only lines with a smaller
 * id, to walk back a page at a time) and {@code GET /v1/actions/{actionId}} (one action's lines and its status).
 * A page is bounded so that what a client leaves unread is (docs/security.md, Connections and memory); served on
 * the event loop, as {@link EventsResource} is, so that an unread answer holds no worker thread.
 */
@Path("/v1/actions")
@Produces(MediaType.APPLICATION_JSON)
public class ActionsResource {

    static final int MAX_LIMIT = 1_000;

    /** A page of the audit log. */
    public record Page(List<ActionRecord> actions) {
    }

    private final ActionAudit audit;
    private final RecoveryEngine recovery;

    public ActionsResource(ActionAudit audit, RecoveryEngine recovery) {
        this.audit = audit;
        this.recovery = recovery;
    }

    @GET
    @NonBlocking
    public Page list(@QueryParam("gpu") String gpu, @QueryParam("limit") String limit,
                     @QueryParam("before") String before) {
        GpuId id = gpu == null || gpu.isBlank() ? null : GpuId.parse(gpu);
        int n = limit(limit);
        long below = before == null ? Long.MAX_VALUE : EventsResource.Query.parseId(before, "before");
        return new Page(audit.latest(r -> r.id() < below
                && (id == null || (r.gpu() != null && id.matches(r.gpu(), r.uuid()))), n));
    }

    @GET
    @Path("/{actionId}")
    public ActionView one(@PathParam("actionId") String actionId) {
        String id = IdForms.generated(actionId, "action");
        return recovery.action(id).orElseThrow(() -> new WebApplicationException(Problem.notFound(
                "no action " + actionId + " in the newest audit lines; list them with GET /v1/actions")));
    }

    private static int limit(String raw) {
        if (raw == null || raw.isBlank()) {
            return 100;
        }
        Long n = IdForms.number(raw, 5);
        if (n != null && n >= 1 && n <= MAX_LIMIT) {
            return n.intValue();
        }
        throw IdForms.bad("limit must be a whole number from 1 to " + MAX_LIMIT + " in plain decimal (no sign, no "
                + "leading zero), got '" + IdForms.abbreviate(raw) + "'");
    }
}
