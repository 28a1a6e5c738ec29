package io.gpuagent.agent.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.http.Problem;
import io.gpuagent.agent.http.TokenAuth;
import io.gpuagent.agent.http.TokenAuthConfig;
import jakarta.ws.rs.core.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bearer-token check on its own: statuses, rotation of the token file, and the permission check. */
class TokenAuthTest {

    @TempDir
    Path dir;

    @Test
    void withoutATokenFileEveryMutatingRequestIsForbiddenWithTheFix() {
        TokenAuth auth = new TokenAuth(() -> Optional.empty());
        Response r = auth.check("Bearer anything").orElseThrow();
        assertEquals(403, r.getStatus());
        assertTrue(detail(r).contains("gpu-agent.auth.token-file"), detail(r));
        assertTrue(auth.permissionProblem().isEmpty());
    }

    @Test
    void statusesForMissingWrongAndRightTokens() throws Exception {
        Path file = token("s3cret-token\n");
        TokenAuth auth = auth(file);
        for (String header : new String[] {null, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token s3cret-token"}) {
            Response r = auth.check(header).orElseThrow();
            assertEquals(401, r.getStatus(), "header " + header);
            assertTrue(r.getHeaderString("WWW-Authenticate").startsWith("Bearer"), "header " + header);
            assertEquals(Problem.MEDIA_TYPE, r.getMediaType().toString());
        }
        assertEquals(403, auth.check("Bearer s3cret-tokeN").orElseThrow().getStatus());
        assertEquals(403, auth.check("Bearer s3cret-token-and-more").orElseThrow().getStatus());
        assertTrue(auth.check("Bearer s3cret-token").isEmpty());
        assertTrue(auth.check("bearer  s3cret-token ").isEmpty(), "the scheme is case-insensitive");
    }

    @Test
    void aChangedTokenFileIsReadAgain() throws Exception {
        Path file = token("first");
        TokenAuth auth = auth(file);
        assertTrue(auth.check("Bearer first").isEmpty());
        Files.writeString(file, "second");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        assertEquals(403, auth.check("Bearer first").orElseThrow().getStatus());
        assertTrue(auth.check("Bearer second").isEmpty());

        Files.delete(file);
        Response gone = auth.check("Bearer second").orElseThrow();
        assertEquals(403, gone.getStatus());
        assertTrue(detail(gone).contains("does not exist"), detail(gone));
        Files.writeString(file, "  \n");
        Response empty = auth.check("Bearer second").orElseThrow();
        assertEquals(403, empty.getStatus());
        assertTrue(detail(empty).contains("empty"), detail(empty));
        Files.writeString(file, "third\n");
        assertTrue(auth.check("Bearer third").isEmpty());
    }

    @Test
    void aTokenFileOthersCanReadIsReported() throws Exception {
        Path file = token("t");
        TokenAuth auth = auth(file);
        assertTrue(auth.permissionProblem().isEmpty());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        String problem = auth.permissionProblem().orElseThrow();
        assertTrue(problem.contains("chmod 600"), problem);
    }

    private Path token(String text) throws Exception {
        Path file = dir.resolve("token");
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static TokenAuth auth(Path file) {
        TokenAuthConfig config = () -> Optional.of(file);
        return new TokenAuth(config);
    }

    private static String detail(Response r) {
        return ((Problem) r.getEntity()).detail();
    }
}
