package io.gpuagent.agent.auth;

import io.gpuagent.agent.http.problem.Problem;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Bearer-token authentication by role ({@link AccessRole}, docs/security.md). Each role's token is in its own
 * file ({@link TokenFile}: mode 0600 checked on every use, re-read when it changes, compared in constant time).
 *
 * <ul>
 *   <li>no {@code Authorization: Bearer} header: 401 with {@code WWW-Authenticate: Bearer};</li>
 *   <li>a token of another role, an unknown token, or no usable credential for the role: 403 naming the role
 *       the endpoint needs and the setting that holds it.</li>
 * </ul>
 * The old {@code gpu-agent.auth.token-file} grants every role in {@link #LEGACY} whose own credential is not
 * configured, so single-token deployments keep working until they split it; at a coordinator
 * ({@code gpu-agent.role=coordinator}) it no longer grants the node or coordinator role (a node credential under
 * any name was what let one node speak for all). Answers to callers never name a file or its permissions: those
 * go to the log, at most one line per kind of refusal a minute ({@link RefusalLog}).
 */
@ApplicationScoped
public class TokenAuth {

    private static final Logger LOG = Logger.getLogger(TokenAuth.class);
    static final String CHALLENGE = "Bearer realm=\"gpu-agent\"";
    /** What the old single token grants when a role has no credential of its own. */
    public static final Set<AccessRole> LEGACY = EnumSet.of(AccessRole.OPERATOR, AccessRole.SCHEDULER,
            AccessRole.COORDINATOR, AccessRole.NODE);
    /** A node name that can be a file name in the node-token directory: no path separators, no leading dot. */
    static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,252}");

    private final Optional<TokenFile> legacy;
    private final Map<AccessRole, TokenFile> own = new EnumMap<>(AccessRole.class);
    private final Optional<TokenFile> nodeOut;
    private final Optional<Path> nodeDir;
    private final boolean readersRequireToken;
    /** {@code gpu-agent.role=coordinator}: the old token grants neither NODE nor COORDINATOR here. */
    private final boolean coordinatorRole;
    /** Node credentials seen at the coordinator, by node; only names whose file existed, so it stays bounded. */
    private final Map<String, TokenFile> nodes = new ConcurrentHashMap<>();
    private final RefusalLog refusals = new RefusalLog(System::nanoTime, LOG::warn);

    /** Agent role; for tests that build it by hand. */
    public TokenAuth(TokenAuthConfig config) {
        this(config, false);
    }

    @jakarta.inject.Inject
    public TokenAuth(TokenAuthConfig config,
                     @org.eclipse.microprofile.config.inject.ConfigProperty(name = "gpu-agent.role", defaultValue = "agent")
                     String role) {
        this(config, "coordinator".equalsIgnoreCase(role.strip()));
    }

    public TokenAuth(TokenAuthConfig config, boolean coordinatorRole) {
        this.coordinatorRole = coordinatorRole;
        this.legacy = config.tokenFile().map(p -> new TokenFile(p, "gpu-agent.auth.token-file"));
        config.operatorTokenFile().ifPresent(p -> own.put(AccessRole.OPERATOR, file(p, AccessRole.OPERATOR)));
        config.schedulerTokenFile().ifPresent(p -> own.put(AccessRole.SCHEDULER, file(p, AccessRole.SCHEDULER)));
        config.coordinatorTokenFile().ifPresent(p -> own.put(AccessRole.COORDINATOR, file(p, AccessRole.COORDINATOR)));
        config.readerTokenFile().ifPresent(p -> own.put(AccessRole.READER, file(p, AccessRole.READER)));
        this.nodeOut = config.nodeTokenFile().map(p -> new TokenFile(p, "gpu-agent.auth.node-token-file"));
        this.nodeDir = config.nodeTokenDir();
        this.readersRequireToken = config.readersRequireToken();
    }

    private static TokenFile file(Path p, AccessRole role) {
        return new TokenFile(p, role.configKey());
    }

    void logConfiguration(@Observes StartupEvent event) {
        if (legacy.isEmpty() && own.isEmpty() && nodeDir.isEmpty() && nodeOut.isEmpty()) {
            LOG.info("mutating endpoints are disabled: no credential is configured; see docs/security.md "
                    + "(gpu-agent.auth.operator-token-file, scheduler-token-file, coordinator-token-file)");
        }
        if (legacy.isPresent()) {
            Set<AccessRole> granted = legacyRoles();
            if (!granted.isEmpty()) {
                LOG.warnf("gpu-agent.auth.token-file is one token for the roles %s: whoever holds it can also do "
                        + "what the others may, and it goes away in 0.2. Split it (docs/security.md): give each role "
                        + "its own file with %s",
                        granted.stream().map(AccessRole::label).toList(),
                        granted.stream().map(AccessRole::configKey).collect(Collectors.joining(", ")));
            }
            legacy.get().read();   // logs a problem (missing, permissions) now rather than at the first request
        }
        own.values().forEach(TokenFile::read);
        nodeOut.ifPresent(TokenFile::read);
        if (readersRequireToken) {
            LOG.info("reads need a credential (gpu-agent.auth.readers-require-token=true); "
                    + "/health and /q/health/* stay open for probes");
        }
    }

    /** The roles the old token grants here: those without a credential of their own. */
    private Set<AccessRole> legacyRoles() {
        Set<AccessRole> roles = EnumSet.noneOf(AccessRole.class);
        for (AccessRole r : LEGACY) {
            if (coordinatorRole && (r == AccessRole.NODE || r == AccessRole.COORDINATOR)) {
                continue;   // one token for every node is one stolen node away from all of them
            }
            boolean hasOwn = r == AccessRole.NODE ? nodeDir.isPresent() : own.containsKey(r);
            if (!hasOwn) {
                roles.add(r);
            }
        }
        return roles;
    }

    /** The file that holds the credential accepted for {@code role}, if any (its own, else the old token). */
    private Optional<TokenFile> accepted(AccessRole role) {
        TokenFile f = own.get(role);
        if (f != null) {
            return Optional.of(f);
        }
        return legacyRoles().contains(role) ? legacy : Optional.empty();
    }

    /** The operator credential's file (its own, else the old token), for the enforce-mode start check. */
    public Optional<Path> tokenFile() {
        return accepted(AccessRole.OPERATOR).map(TokenFile::path);
    }

    /** What is wrong with the operator credential file now, or empty (also when none is configured). */
    public Optional<String> permissionProblem() {
        return accepted(AccessRole.OPERATOR).map(TokenFile::read)
                .flatMap(s -> s instanceof TokenFile.Unusable(String p) ? Optional.of(p) : Optional.empty());
    }

    public boolean readersRequireToken() {
        return readersRequireToken;
    }

    /**
     * Checks an {@code Authorization} header value (null when absent) for an endpoint any of {@code needed}
     * may call. Empty when the request may go on, otherwise the problem+json response to answer with.
     */
    public Optional<Response> check(String authorization, Collection<AccessRole> needed) {
        String need = needed.stream().map(AccessRole::label).collect(Collectors.joining(" or "));
        String presented = bearer(authorization);
        List<TokenFile> files = new ArrayList<>();
        needed.forEach(r -> accepted(r).filter(f -> !files.contains(f)).ifPresent(files::add));
        if (files.isEmpty()) {
            return Optional.of(Problem.response(403, "Forbidden", "this endpoint needs the " + need + " credential "
                    + "and none is configured: write a token to a file readable only by the agent (mode 0600), set "
                    + needed.stream().map(AccessRole::configKey).collect(Collectors.joining(" or "))
                    + " to its path, and send it as 'Authorization: Bearer <token>' (docs/security.md)"));
        }
        if (presented == null) {
            return Optional.of(unauthorized("this endpoint needs 'Authorization: Bearer <token>' with the " + need
                    + " credential"));
        }
        List<String> problems = new ArrayList<>();
        for (TokenFile f : files) {
            TokenFile.State s = f.read();
            if (s instanceof TokenFile.Unusable(String p)) {
                problems.add(p);
            } else if (f.matches(presented)) {
                return Optional.empty();
            }
        }
        if (!problems.isEmpty()) {
            // The file's path and permissions are for the operator's eyes, not for whoever reached the port.
            refusals.warn(RefusalLog.Kind.UNUSABLE_CREDENTIAL, "refused a request that needs the " + need
                    + " credential: " + String.join("; ", problems));
            return Optional.of(Problem.response(403, "Forbidden", "the " + need + " credential of this agent is not "
                    + "usable now; its operator finds why in the agent's log"));
        }
        return Optional.of(forbidden(need, presented));
    }

    /** Like {@link #check(String, Collection)} for reads: open unless readers must present a credential. */
    public Optional<Response> checkRead(String authorization) {
        if (!readersRequireToken) {
            return Optional.empty();
        }
        String presented = bearer(authorization);
        if (presented == null) {
            return Optional.of(unauthorized("reads need 'Authorization: Bearer <token>' with the reader "
                    + "credential (gpu-agent.auth.reader-token-file) or any other role's "
                    + "(gpu-agent.auth.readers-require-token=true)"));
        }
        if (roleOf(presented).isPresent() || nodeMatches(presented)) {
            return Optional.empty();
        }
        if (own.get(AccessRole.READER) instanceof TokenFile f && f.read() instanceof TokenFile.Unusable(String p)) {
            refusals.warn(RefusalLog.Kind.UNUSABLE_CREDENTIAL, "refused a read: " + p);
            return Optional.of(Problem.response(403, "Forbidden", "the reader credential of this agent is not usable "
                    + "now; its operator finds why in the agent's log"));
        }
        return Optional.of(Problem.response(403, "Forbidden", "the bearer token is none of this agent's "
                + "credentials; reads need the reader credential (gpu-agent.auth.reader-token-file)"));
    }

    /**
     * Whether {@code authorization} carries one of this agent's credentials, of any role (the event stream keeps
     * slots for such readers), whether or not reads need one.
     */
    public boolean authenticated(String authorization) {
        String presented = bearer(authorization);
        return presented != null && (roleOf(presented).isPresent() || nodeMatches(presented));
    }

    /**
     * The heartbeat of node {@code node} (named in the request's path, so this runs before the body is read): the
     * token must be that node's own credential ({@code <node-token-dir>/<node>}). Only an agent-role process
     * without a node directory still takes the old single token (its heartbeat endpoint answers 404 anyway).
     */
    public Optional<Response> checkNode(String authorization, String node) {
        String presented = bearer(authorization);
        if (presented == null) {
            return Optional.of(unauthorized("heartbeats need 'Authorization: Bearer <token>' with the node's own "
                    + "credential (gpu-agent.auth.node-token-file on the agent)"));
        }
        if (nodeDir.isEmpty()) {
            if (coordinatorRole) {
                refusals.warn(RefusalLog.Kind.HEARTBEAT_NO_CREDENTIAL, "refused a heartbeat as node " + quote(node)
                        + ": gpu-agent.auth.node-token-dir is not set; create it with one file per node, named as the "
                        + "node, holding that node's gpu-agent.auth.node-token-file (docs/security.md)");
                return Optional.of(Problem.response(403, "Forbidden", "this coordinator takes no heartbeats: it has no "
                        + "node credentials (gpu-agent.auth.node-token-dir, docs/security.md)"));
            }
            return check(authorization, List.of(AccessRole.NODE));
        }
        if (node == null || !NODE_NAME.matcher(node).matches()) {
            return Optional.of(Problem.response(403, "Forbidden", "node name " + quote(node) + " cannot have a "
                    + "credential file (letters, digits, . _ -, not starting with a dot)"));
        }
        Path path = nodeDir.get().resolve(node);
        TokenFile f = nodes.get(node);
        if (f == null) {
            if (!java.nio.file.Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                refusals.warn(RefusalLog.Kind.HEARTBEAT_NO_CREDENTIAL, "refused a heartbeat as node " + node
                        + ": there is no " + path + "; create it with that node's token, mode 0600 (docs/security.md)");
                return Optional.of(Problem.response(403, "Forbidden", "the coordinator has no credential for node "
                        + node + "; its operator must add it under gpu-agent.auth.node-token-dir (docs/security.md)"));
            }
            f = nodes.computeIfAbsent(node, n -> new TokenFile(path, "gpu-agent.auth.node-token-dir"));
        }
        TokenFile.State s = f.read();
        if (s instanceof TokenFile.Unusable(String p)) {
            refusals.warn(RefusalLog.Kind.UNUSABLE_CREDENTIAL, "refused a heartbeat as node " + node + ": " + p);
            return Optional.of(Problem.response(403, "Forbidden", "the coordinator's credential for node " + node
                    + " is not usable now; its operator finds why in the coordinator's log"));
        }
        if (f.matches(presented)) {
            return Optional.empty();
        }
        refusals.warn(RefusalLog.Kind.HEARTBEAT_WRONG_TOKEN, "refused a heartbeat as node " + node
                + ": the token is not that node's credential (" + path + ")");
        return Optional.of(Problem.response(403, "Forbidden", "the bearer token is not node " + node
                + "'s credential at the coordinator; a node may only heartbeat under its own name"));
    }

    /**
     * The {@code Authorization} header this process sends as {@code role}: NODE (its heartbeats) or COORDINATOR
     * in the agent role (never used there). The role's own file, else the old token. A coordinator sends agents
     * only {@link CoordinatorCredentials}' per-node credentials, never this.
     */
    public String outgoing(AccessRole role) throws TokenUnavailable {
        if (coordinatorRole && role == AccessRole.COORDINATOR) {
            throw new TokenUnavailable("a coordinator sends each agent its own credential "
                    + "(gpu-agent.auth.coordinator-token-dir), never one token for all");
        }
        Optional<TokenFile> f = role == AccessRole.NODE ? nodeOut.or(() -> legacy) : Optional.ofNullable(own.get(role))
                .or(() -> legacy);
        String key = role == AccessRole.NODE ? "gpu-agent.auth.node-token-file" : role.configKey();
        if (f.isEmpty()) {
            throw new TokenUnavailable("no " + key + " is configured; write this " + role.label() + " credential to "
                    + "a file (mode 0600) and set " + key + " to it (docs/security.md)");
        }
        return switch (f.get().read()) {
            case TokenFile.Usable u -> "Bearer " + u.token();
            case TokenFile.Unusable u -> throw new TokenUnavailable(u.problem());
        };
    }

    /** No token to send; the message says how to fix it. */
    public static final class TokenUnavailable extends Exception {
        public TokenUnavailable(String message) {
            super(message);
        }
    }

    /** The role (other than NODE) a token is the credential of, for messages; empty when it is none. */
    private Optional<String> roleOf(String presented) {
        for (Map.Entry<AccessRole, TokenFile> e : own.entrySet()) {
            if (e.getValue().matches(presented)) {
                return Optional.of(e.getKey().label());
            }
        }
        if (legacy.isPresent() && legacy.get().matches(presented)) {
            return Optional.of("gpu-agent.auth.token-file");
        }
        return Optional.empty();
    }

    /** A node credential the coordinator has seen (a node may read with its own token). */
    private boolean nodeMatches(String presented) {
        return nodes.values().stream().anyMatch(f -> f.matches(presented));
    }

    private Response forbidden(String need, String presented) {
        Optional<String> other = roleOf(presented);
        String detail = other.map(r -> "this endpoint needs the " + need + " credential; this token is the " + r
                        + " credential, which may not do this (docs/security.md)")
                .orElse("the bearer token is not the " + need + " credential of this agent");
        refusals.warn(RefusalLog.Kind.FORBIDDEN, "refused a request that needs the " + need + " credential: "
                + other.map(r -> "it presented the " + r + " credential").orElse("it presented an unknown token"));
        return Problem.response(403, "Forbidden", detail);
    }

    private static Response unauthorized(String detail) {
        Response r = Problem.response(401, "Unauthorized", detail);
        return Response.fromResponse(r).header(HttpHeaders.WWW_AUTHENTICATE, CHALLENGE).build();
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "\"";
    }

    /** The token after {@code Bearer }, or null when the header is absent, another scheme, or empty. */
    static String bearer(String authorization) {
        if (authorization == null) {
            return null;
        }
        String h = authorization.strip();
        if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = h.substring(7).strip();
        return token.isEmpty() ? null : token;
    }
}
