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

/**
 * Runs {@link TokenAuth} before every endpoint marked {@link TokenAuthRequired}, for the roles it names, and
 * caps the body ({@link BodyLimit}). A {@code @ServerRequestFilter} runs after routing and before RESTEasy
 * Reactive reads any body (its {@code readBody} is false), so a wrong or missing credential is answered
 * without taking in a byte of the body (AuthenticationBeforeBodyTest proves it per endpoint). The node role
 * is bound to the path's {@code {name}}, so a heartbeat is authenticated before its body as well.
 */
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
        Optional<Response> refused;
        if (roles.equals(List.of(AccessRole.NODE))) {
            refused = auth.checkNode(authorization, request.getUriInfo().getPathParameters().getFirst("name"));
        } else if (authorization == null && roles.contains(AccessRole.COORDINATOR) && certificates.coordinator(http)) {
            // A bearer token, when sent, decides; without one a coordinator may show its client certificate.
            refused = Optional.empty();
        } else {
            refused = auth.check(authorization, roles);
        }
        if (refused.isPresent()) {
            return refused;
        }
        return capBody(request, resource.getResourceMethod() == null ? null
                : resource.getResourceMethod().getAnnotation(BodyLimit.class));
    }

    /** 413 at once for a declared length over the cap; otherwise the body is counted while it is read. */
    private static Optional<Response> capBody(ContainerRequestContext request, BodyLimit declared) {
        int limit = declared == null ? BodyLimit.DEFAULT : declared.value();
        String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > limit) {
                    return Optional.of(CappedInputStream.tooLarge(limit).getResponse());
                }
            } catch (NumberFormatException e) {
                return Optional.of(io.gpuagent.agent.http.problem.Problem.badRequest("Content-Length is not a number"));
            }
        }
        // Wrapped whatever the Content-Type says: a body without one is still read by a String parameter.
        request.setEntityStream(new CappedInputStream(request.getEntityStream(), limit));
        return Optional.empty();
    }
}
