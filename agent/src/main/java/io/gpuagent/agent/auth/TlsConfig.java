package io.gpuagent.agent.auth;

import io.smallrye.config.ConfigMapping;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code gpu-agent.tls.*}: how this process checks the servers it calls (the coordinator calling agents, an
 * agent heartbeating the coordinator). Its own HTTPS server is Quarkus' ({@code quarkus.tls.*},
 * {@code quarkus.http.ssl.*}); docs/security.md has both.
 */
@ConfigMapping(prefix = "gpu-agent.tls")
public interface TlsConfig {

    /**
     * PEM files with the CA certificates to trust for outgoing HTTPS instead of the JVM's default trust store
     * (a private CA that signed the agents' and the coordinator's certificates). Absent: the JVM's.
     */
    Optional<List<Path>> trustCertificates();
}
