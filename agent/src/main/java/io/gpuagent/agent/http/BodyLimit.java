package io.gpuagent.agent.http;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The most bytes an authenticated endpoint's body may have ({@link TokenAuthFilter} refuses a larger one with
 * 413 while reading it, never after). Without this, an authenticated endpoint takes {@link #DEFAULT} bytes.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface BodyLimit {

    /** A lease or placement request, an operator's reason: a few hundred bytes in practice. */
    int DEFAULT = 8 * 1024;

    int value();
}
