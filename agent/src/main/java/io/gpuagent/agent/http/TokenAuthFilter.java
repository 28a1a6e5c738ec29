package io.gpuagent.agent.http;

import io.gpuagent.agent.auth.TokenAuth;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** Runs {@link TokenAuth} before every endpoint marked {@link TokenAuthRequired}, for the roles it names. */
public class TokenAuthFilter {

    private final TokenAuth auth;

    public TokenAuthFilter(TokenAuth auth) {
        this.auth = auth;
    }

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public Optional<Response> filter(ContainerRequestContext request, ResourceInfo resource) {
        TokenAuthRequired required = resource.getResourceMethod() == null ? null
                : resource.getResourceMethod().getAnnotation(TokenAuthRequired.class);
        if (required == null && resource.getResourceClass() != null) {
            required = resource.getResourceClass().getAnnotation(TokenAuthRequired.class);
        }
        if (required == null) {
            return Optional.empty();
        }
        return auth.check(request.getHeaderString(HttpHeaders.AUTHORIZATION), List.of(required.value()));
    }
}
