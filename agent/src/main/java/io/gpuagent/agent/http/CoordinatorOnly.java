package io.gpuagent.agent.http;

import jakarta.ws.rs.NameBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an endpoint that exists only with {@code gpu-agent.role=coordinator}; elsewhere {@link CoordinatorOnlyFilter}
 * answers 404. The role is runtime configuration, so the endpoints are always compiled in and checked per request.
 */
@NameBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface CoordinatorOnly {
}
