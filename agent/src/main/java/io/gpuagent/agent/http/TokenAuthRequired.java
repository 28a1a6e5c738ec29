package io.gpuagent.agent.http;

import io.gpuagent.agent.auth.AccessRole;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a mutating endpoint and the roles that may call it: {@link TokenAuthFilter} lets the request through
 * only with {@code Authorization: Bearer <the credential of one of these roles>}. Reads stay open unless
 * {@code gpu-agent.auth.readers-require-token=true} ({@link ReaderGate}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface TokenAuthRequired {
    AccessRole[] value();
}
