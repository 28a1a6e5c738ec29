package io.gpuagent.agent.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.agent.auth.TokenAuth;
import io.gpuagent.agent.http.problem.Problem;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.Response;
import java.util.Optional;

/**
 * With {@code gpu-agent.auth.readers-require-token=true}, every GET and HEAD (the REST API, {@code /metrics},
 * the event stream) needs a credential, except the probes {@code /health} (the Slurm health check) and
 * {@code /q/health/*}. A Vert.x filter, so it also covers the routes outside JAX-RS.
 */
@ApplicationScoped
public class ReaderGate {

    private final TokenAuth auth;
    private final ObjectMapper mapper;

    public ReaderGate(TokenAuth auth, ObjectMapper mapper) {
        this.auth = auth;
        this.mapper = mapper;
    }

    void register(@Observes Filters filters) {
        if (!auth.readersRequireToken()) {
            return;
        }
        filters.register(this::filter, 100);
    }

    private void filter(RoutingContext rc) {
        HttpMethod m = rc.request().method();
        String path = rc.normalizedPath();
        if ((m != HttpMethod.GET && m != HttpMethod.HEAD) || open(path)) {
            rc.next();
            return;
        }
        Optional<Response> refused = auth.checkRead(rc.request().getHeader("Authorization"));
        if (refused.isEmpty()) {
            rc.next();
            return;
        }
        Problem.end(rc, mapper, refused.get());
    }

    static boolean open(String path) {
        return path.equals("/health") || path.startsWith("/health/") || path.startsWith("/q/health");
    }
}
