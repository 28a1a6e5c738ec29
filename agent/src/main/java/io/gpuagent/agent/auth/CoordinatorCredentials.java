package io.gpuagent.agent.auth;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * What a coordinator presents to each agent (docs/security.md, "The coordinator's credential"): the token in
 * {@code <coordinator-token-dir>/<node>}, made for that node's agent alone, or, when there is no such file and the
 * coordinator has a client certificate, nothing but the certificate (mutual TLS, no {@code Authorization}
 * header). Never one cluster-wide token: a rogue node that declares its own agentUrl receives only the
 * credential its own agent already accepts.
 */
@ApplicationScoped
public class CoordinatorCredentials {

    private static final Logger LOG = Logger.getLogger(CoordinatorCredentials.class);
    static final String DIR_KEY = "gpu-agent.auth.coordinator-token-dir";

    /** What to present to one agent. */
    public sealed interface Presented {
    }

    /** {@code Authorization: Bearer ...} with that node's own coordinator credential. */
    public record Bearer(String header) implements Presented {
        @Override
        public String toString() {
            return "Bearer[secret]";
        }
    }

    /** No header: the client certificate is the credential. */
    public record CertificateOnly() implements Presented {
    }

    private final Optional<Path> dir;
    private final boolean clientCertificate;
    private final boolean coordinatorRole;
    private final Optional<Path> singleFile;
    private final boolean legacy;
    /** By node; only names whose file existed, so it stays bounded by the directory. */
    private final Map<String, TokenFile> files = new ConcurrentHashMap<>();

    @Inject
    public CoordinatorCredentials(TokenAuthConfig auth, TlsConfig tls,
                                  @ConfigProperty(name = "gpu-agent.role", defaultValue = "agent") String role) {
        this(auth.coordinatorTokenDir(), tls.clientCertificate().isPresent(), "coordinator".equalsIgnoreCase(role.strip()),
                auth.coordinatorTokenFile(), auth.tokenFile().isPresent());
    }

    /** For tests and tools that build it without CDI. */
    public CoordinatorCredentials(Optional<Path> dir, boolean clientCertificate, boolean coordinatorRole,
                           Optional<Path> singleFile, boolean legacy) {
        this.dir = dir;
        this.clientCertificate = clientCertificate;
        this.coordinatorRole = coordinatorRole;
        this.singleFile = singleFile;
        this.legacy = legacy;
    }

    void check(@Observes StartupEvent event) {
        startProblem().ifPresent(p -> {
            throw new IllegalStateException(p);
        });
        if (!coordinatorRole) {
            return;
        }
        if (singleFile.isPresent() || legacy) {
            LOG.warnf("gpu-agent.auth.%s is not sent to agents by a coordinator; each agent gets its own credential "
                    + "from %s%s (docs/security.md)", singleFile.isPresent() ? "coordinator-token-file" : "token-file",
                    DIR_KEY, clientCertificate ? " or the client certificate" : "");
        }
        LOG.infof("the coordinator presents to each agent %s", dir.map(d -> "the token in " + d + "/<node>"
                + (clientCertificate ? ", else its client certificate alone" : "")).orElse("its client certificate alone"));
    }

    /**
     * Why this configuration must not start, or empty: today's single coordinator token on a coordinator, with
     * nothing per agent to send instead.
     */
    Optional<String> startProblem() {
        if (!coordinatorRole || dir.isPresent() || clientCertificate || singleFile.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("the coordinator refuses to start: gpu-agent.auth.coordinator-token-file (" + singleFile.get()
                + ") is one token for every agent, and whichever node declares an agentUrl would collect it. Give each "
                + "agent its own: create " + DIR_KEY + " (e.g. /etc/gpu-agent/coordinator-tokens, mode 0700) with one "
                + "file per node, named as the node, holding the token in that agent's gpu-agent.auth."
                + "coordinator-token-file, and remove coordinator-token-file here; or use the client certificate "
                + "(gpu-agent.tls.client-certificate, client-key). Step by step: docs/security.md, \"Upgrading from 0.1\"");
    }

    /**
     * The credential for the agent of {@code node}.
     *
     * @throws TokenAuth.TokenUnavailable there is none (the message says what to create), or its file is unusable
     */
    public Presented forNode(String node) throws TokenAuth.TokenUnavailable {
        Optional<TokenFile> file = file(node);
        if (file.isEmpty()) {
            if (clientCertificate) {
                return new CertificateOnly();
            }
            throw new TokenAuth.TokenUnavailable("the coordinator has no credential for node " + node + ": create "
                    + dir.map(d -> d.resolve(TokenAuth.NODE_NAME.matcher(node).matches() ? node : "<node>").toString())
                    .orElse(DIR_KEY + "/<node>") + " (mode 0600) with the token in that agent's "
                    + "gpu-agent.auth.coordinator-token-file, or give the coordinator a client certificate "
                    + "(gpu-agent.tls.client-certificate) (docs/security.md)");
        }
        return switch (file.get().read()) {
            case TokenFile.Usable u -> new Bearer("Bearer " + u.token());
            case TokenFile.Unusable u -> throw new TokenAuth.TokenUnavailable(u.problem());
        };
    }

    private Optional<TokenFile> file(String node) {
        if (dir.isEmpty() || node == null || !TokenAuth.NODE_NAME.matcher(node).matches()) {
            return Optional.empty();
        }
        TokenFile f = files.get(node);
        if (f != null) {
            return Optional.of(f);
        }
        Path path = dir.get().resolve(node);
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return Optional.of(files.computeIfAbsent(node, n -> new TokenFile(path, DIR_KEY)));
    }
}
