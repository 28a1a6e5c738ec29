package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.reload.ConfigReload;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * {@code POST /v1/config/reload} (operator token): what {@code systemctl reload gpu-agent} does, answering what
 * changed (200) or why the new configuration was refused (422, the old one still in force).
 */
@Path("/v1/config")
@Produces(MediaType.APPLICATION_JSON)
public class ConfigResource {

    /** A reload refused: the request was fine, the configuration it read was not. */
    static final int UNPROCESSABLE = 422;

    private final ConfigReload reload;
    private final ObjectMapper mapper;

    public ConfigResource(ConfigReload reload, ObjectMapper mapper) {
        this.reload = reload;
        this.mapper = mapper;
    }

    @POST
    @Path("/reload")
    @TokenAuthRequired(AccessRole.OPERATOR)
    @Consumes(MediaType.WILDCARD)
    public Response reload(String body, @Context HttpServerRequest request) {
        String reason = OperatorReason.parse(mapper, body, "operator reload", "new counters file");
        ConfigReload.Outcome outcome = reload.reload("POST /v1/config/reload from " + OperatorReason.remote(request)
                + ": " + reason);
        return Response.status(outcome.applied() ? 200 : UNPROCESSABLE).entity(outcome).build();
    }
}
