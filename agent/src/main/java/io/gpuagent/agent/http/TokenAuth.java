package io.gpuagent.agent.http;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Bearer-token authentication for mutating endpoints. The token lives in {@code gpu-agent.auth.token-file}
 * (mode 0600) and is read again whenever the file changes (its time, size or inode), so rotating it needs
 * no restart. Tokens are compared in constant time (SHA-256 of both, then {@link MessageDigest#isEqual}).
 *
 * <ul>
 *   <li>no token file configured: 403, saying how to configure one;</li>
 *   <li>no {@code Authorization} header, or a scheme other than {@code Bearer}: 401 with
 *       {@code WWW-Authenticate: Bearer};</li>
 *   <li>a wrong token, or a token file that cannot be read or is empty: 403.</li>
 * </ul>
 */
@ApplicationScoped
public class TokenAuth {

    private static final Logger LOG = Logger.getLogger(TokenAuth.class);
    static final String CHALLENGE = "Bearer realm=\"gpu-agent\"";
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final Optional<Path> file;
    private Token token;   // guarded by this

    public TokenAuth(TokenAuthConfig config) {
        this.file = config.tokenFile();
    }

    void logConfiguration(@Observes StartupEvent event) {
        if (file.isEmpty()) {
            LOG.info("mutating endpoints are disabled: set gpu-agent.auth.token-file to a file (mode 0600) holding a token");
            return;
        }
        Token t = current();
        if (t.problem() != null) {
            LOG.warnf("mutating endpoints will answer 403 until this is fixed: %s", t.problem());
        } else {
            LOG.infof("mutating endpoints require the bearer token in %s", file.get());
        }
        permissionProblem().ifPresent(LOG::warn);
    }

    /** The configured token file, if any. */
    public Optional<Path> tokenFile() {
        return file;
    }

    /**
     * What is wrong with the token file's permissions (readable or writable by group or others), for the
     * startup check; empty when it is fine, absent, or the file system has no POSIX permissions.
     */
    public Optional<String> permissionProblem() {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        Path p = file.get();
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
            if (perms.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                return Optional.of("the token file " + p + " is accessible to group or others ("
                        + PosixFilePermissions.toString(perms) + "); run: chmod 600 " + p);
            }
        } catch (UnsupportedOperationException | IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * Checks an {@code Authorization} header value (null when absent). Empty when the request may go on,
     * otherwise the problem+json response to answer with.
     */
    public Optional<Response> check(String authorization) {
        if (file.isEmpty()) {
            return Optional.of(Problem.response(403, "Forbidden", "mutating endpoints are disabled because no token "
                    + "is configured: write a token to a file readable only by the agent (chmod 600), set "
                    + "gpu-agent.auth.token-file to its path, and send it as 'Authorization: Bearer <token>'"));
        }
        String presented = bearer(authorization);
        if (presented == null) {
            Response r = Problem.response(401, "Unauthorized", "this endpoint changes state and needs "
                    + "'Authorization: Bearer <token>', with the token from the file named by gpu-agent.auth.token-file");
            return Optional.of(Response.fromResponse(r).header(HttpHeaders.WWW_AUTHENTICATE, CHALLENGE).build());
        }
        Token t = current();
        if (t.problem() != null) {
            return Optional.of(Problem.response(403, "Forbidden", t.problem()));
        }
        if (!MessageDigest.isEqual(sha256(presented.getBytes(StandardCharsets.UTF_8)), t.digest())) {
            LOG.warn("rejected a request with a wrong bearer token");
            return Optional.of(Problem.response(403, "Forbidden",
                    "the bearer token is not the one in the agent's token file (gpu-agent.auth.token-file)"));
        }
        return Optional.empty();
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

    /** The token as of now: read again when the file's time, size or identity changed. */
    private synchronized Token current() {
        Path p = file.orElseThrow();
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(p, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return remember(Token.failed("the token file " + p + " (gpu-agent.auth.token-file) does not exist; "
                    + "create it with a token, mode 0600"));
        } catch (IOException e) {
            return remember(Token.failed("the token file " + p + " cannot be read (" + e + "); "
                    + "make it readable by the agent's user only (chmod 600)"));
        }
        Token t = token;
        if (t != null && t.problem() == null && t.matches(attrs)) {
            return t;
        }
        try {
            String text = Files.readString(p, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                return remember(Token.failed("the token file " + p + " is empty; write a token into it"));
            }
            return remember(new Token(attrs.lastModifiedTime(), attrs.size(), attrs.fileKey(),
                    sha256(text.getBytes(StandardCharsets.UTF_8)), null));
        } catch (IOException | RuntimeException e) {
            return remember(Token.failed("the token file " + p + " cannot be read (" + e
                    + "); make it readable by the agent's user only (chmod 600)"));
        }
    }

    private Token remember(Token t) {
        Token old = token;
        if (t.problem() != null && (old == null || !t.problem().equals(old.problem()))) {
            LOG.warn(t.problem());
        } else if (t.problem() == null && old != null && old.digest() != null) {
            LOG.infof("the token file %s changed; using the new token", file.orElseThrow());
        }
        token = t;
        return t;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    private record Token(FileTime modified, long size, Object fileKey, byte[] digest, String problem) {
        static Token failed(String problem) {
            return new Token(null, -1, null, null, problem);
        }

        boolean matches(BasicFileAttributes attrs) {
            return attrs.lastModifiedTime().equals(modified) && attrs.size() == size
                    && Objects.equals(attrs.fileKey(), fileKey);
        }
    }
}
