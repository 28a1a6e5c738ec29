package io.gpuagent.agent.coordinator;

import io.gpuagent.agent.http.TokenAuthConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The token this process presents when it calls another node (an agent heartbeating the coordinator, the
 * coordinator taking leases): the same file, {@code gpu-agent.auth.token-file}, that guards its own mutating
 * endpoints. Read on every call, so a rotated token is used at once.
 */
@ApplicationScoped
public class BearerToken {

    private final Optional<Path> file;

    public BearerToken(TokenAuthConfig config) {
        this.file = config.tokenFile();
    }

    /** The {@code Authorization} header value. */
    public String header() throws TokenUnavailable {
        Path p = file.orElseThrow(() -> new TokenUnavailable("no gpu-agent.auth.token-file is configured; "
                + "write the cluster's token to a file (chmod 600) and set gpu-agent.auth.token-file to it"));
        String token;
        try {
            token = Files.readString(p, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            throw new TokenUnavailable("the token file " + p + " (gpu-agent.auth.token-file) does not exist; "
                    + "create it with the cluster's token, mode 0600");
        } catch (IOException | RuntimeException e) {
            throw new TokenUnavailable("the token file " + p + " cannot be read (" + e + "); make it readable "
                    + "by the agent's user (chmod 600)");
        }
        if (token.isEmpty()) {
            throw new TokenUnavailable("the token file " + p + " is empty; write the cluster's token into it");
        }
        return "Bearer " + token;
    }

    /** No token to send; the message says how to fix it. */
    public static final class TokenUnavailable extends Exception {
        public TokenUnavailable(String message) {
            super(message);
        }
    }
}
