package io.gpuagent.agent.http;

import jakarta.ws.rs.NameBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a mutating endpoint: {@link TokenAuthFilter} lets the request through only with
 * {@code Authorization: Bearer <the token in gpu-agent.auth.token-file>}. Read-only endpoints stay open.
 */
@NameBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface TokenAuthRequired {
}
