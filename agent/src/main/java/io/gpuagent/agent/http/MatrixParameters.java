package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.http.problem.Problem;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Locale;

/**
 * Refuses a path with matrix parameters ({@code /v1/gpus/0;1/drain}): JAX-RS would drop {@code ;1} and act on
 * GPU 0, where the caller may have meant something else. No endpoint of the agent takes matrix parameters,
 * so a {@code ;} in the raw path is a 400 before any route runs. A Vert.x filter: JAX-RS only ever sees the
 * path with them stripped.
 */
@ApplicationScoped
public class MatrixParameters {

    private final ObjectMapper mapper;

    public MatrixParameters(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    void register(@Observes Filters filters) {
        filters.register(this::filter, 200);
    }

    private void filter(RoutingContext rc) {
        String path = rc.request().path();
        if (path == null || (path.indexOf(';') < 0 && !path.toLowerCase(Locale.ROOT).contains("%3b"))) {
            rc.next();
            return;
        }
        Problem.end(rc, mapper, Problem.badRequest("the path has a ';' (matrix parameters are not supported): name one "
                + "GPU by its index or UUID, e.g. /v1/gpus/0/drain"));
    }
}
