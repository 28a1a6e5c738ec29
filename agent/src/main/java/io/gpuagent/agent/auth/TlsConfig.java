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

    /**
     * Agent: PEM CA certificates (or the coordinator's own certificate) whose client certificates are accepted
     * as the coordinator's credential on HTTPS, instead of its bearer token ({@link ClientCertificateAuth}).
     * Needs {@code quarkus.http.ssl.client-auth=request} and the same file in Quarkus' trust store.
     */
    Optional<List<Path>> coordinatorClientCa();

    /**
     * Agent, optional: of the client certificates {@link #coordinatorClientCa()} signed, accept only those whose
     * subject (RFC 2253, e.g. {@code CN=coord-1,O=gpu}), common name or DNS name is one of these; with
     * {@link #coordinatorClientPins()}, either list matching is enough.
     */
    Optional<List<String>> coordinatorClientNames();

    /**
     * Agent, optional: accept only client certificates whose public key (SubjectPublicKeyInfo) has one of these
     * SHA-256 digests, base64 ({@code openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl
     * dgst -sha256 -binary | base64}), optionally prefixed {@code sha256/}.
     */
    Optional<List<String>> coordinatorClientPins();

    /**
     * A PEM certificate (chain, own certificate first) this process presents when an HTTPS server it calls
     * asks for one: the coordinator's client certificate for agents with {@link #coordinatorClientCa()}.
     */
    Optional<Path> clientCertificate();

    /** The unencrypted PKCS#8 PEM private key of {@link #clientCertificate()}; a file only the agent can read. */
    Optional<Path> clientKey();
}
