package io.gpuagent.agent.http;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;

/** Runs {@link TokenAuth} before every endpoint marked {@link TokenAuthRequired}. */
@Provider
@TokenAuthRequired
@Priority(Priorities.AUTHENTICATION)
public class TokenAuthFilter implements ContainerRequestFilter {

    private final TokenAuth auth;

    public TokenAuthFilter(TokenAuth auth) {
        this.auth = auth;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        auth.check(request.getHeaderString(HttpHeaders.AUTHORIZATION)).ifPresent(request::abortWith);
    }
}
