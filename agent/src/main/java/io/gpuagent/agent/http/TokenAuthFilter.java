package io.gpuagent.agent.http;

import io.gpuagent.agent.auth.AccessRole;
import io.gpuagent.agent.auth.ClientCertificateAuth;
import io.gpuagent.agent.auth.TokenAuth;
import io.vertx.core.http.HttpServerRequest;
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
    private final ClientCertificateAuth certificates;

    public TokenAuthFilter(TokenAuth auth, ClientCertificateAuth certificates) {
        this.auth = auth;
        this.certificates = certificates;
    }

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public Optional<Response> filter(ContainerRequestContext request, ResourceInfo resource, HttpServerRequest http) {
        TokenAuthRequired required = resource.getResourceMethod() == null ? null
                : resource.getResourceMethod().getAnnotation(TokenAuthRequired.class);
        if (required == null && resource.getResourceClass() != null) {
            required = resource.getResourceClass().getAnnotation(TokenAuthRequired.class);
        }
        if (required == null) {
            return Optional.empty();
        }
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        List<AccessRole> roles = List.of(required.value());
        // A bearer token, when sent, decides; without one a coordinator may show its client certificate.
        if (authorization == null && roles.contains(AccessRole.COORDINATOR) && certificates.coordinator(http)) {
            return Optional.empty();
        }
        return auth.check(authorization, roles);
    }
}
