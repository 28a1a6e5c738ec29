package io.gpuagent.agent.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.agent.http.problem.Problem;
import jakarta.ws.rs.core.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The credential checks on their own: statuses, roles, node binding, readers, rotation and permissions. */
class TokenAuthTest {

    static final List<AccessRole> OPERATOR = List.of(AccessRole.OPERATOR);
    static final List<AccessRole> LEASES = List.of(AccessRole.SCHEDULER, AccessRole.COORDINATOR);

    @TempDir
    Path dir;

    @Test
    void withoutACredentialEveryMutatingRequestIsForbiddenWithTheFix() {
        TokenAuth auth = new TokenAuth(AuthSettings.legacy(null));
        Response r = auth.check("Bearer anything", OPERATOR).orElseThrow();
        assertEquals(403, r.getStatus());
        assertTrue(detail(r).contains("gpu-agent.auth.operator-token-file"), detail(r));
        assertTrue(auth.permissionProblem().isEmpty());
    }

    @Test
    void statusesForMissingWrongAndRightTokens() throws Exception {
        TokenAuth auth = new TokenAuth(AuthSettings.legacy(token("token", "s3cret-token\n")));
        for (String header : new String[] {null, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token s3cret-token"}) {
            Response r = auth.check(header, OPERATOR).orElseThrow();
            assertEquals(401, r.getStatus(), "header " + header);
            assertTrue(r.getHeaderString("WWW-Authenticate").startsWith("Bearer"), "header " + header);
            assertEquals(Problem.MEDIA_TYPE, r.getMediaType().toString());
        }
        assertEquals(403, auth.check("Bearer s3cret-tokeN", OPERATOR).orElseThrow().getStatus());
        assertEquals(403, auth.check("Bearer s3cret-token-and-more", OPERATOR).orElseThrow().getStatus());
        assertTrue(auth.check("Bearer s3cret-token", OPERATOR).isEmpty());
        assertTrue(auth.check("bearer  s3cret-token ", OPERATOR).isEmpty(), "the scheme is case-insensitive");
    }

    @Test
    void eachRoleHasItsOwnCredentialAndAWrongRoleIsToldWhichOneItNeeds() throws Exception {
        TokenAuth auth = new TokenAuth(new AuthSettings(null, token("operator", "op-token"), token("scheduler", "sched-token"),
                token("coordinator", "coord-token"), null, null, null, false));
        assertTrue(auth.check("Bearer op-token", OPERATOR).isEmpty());
        assertTrue(auth.check("Bearer sched-token", LEASES).isEmpty());
        assertTrue(auth.check("Bearer coord-token", LEASES).isEmpty());

        Response schedulerActs = auth.check("Bearer sched-token", OPERATOR).orElseThrow();
        assertEquals(403, schedulerActs.getStatus());
        assertTrue(detail(schedulerActs).contains("needs the operator credential")
                && detail(schedulerActs).contains("scheduler credential"), detail(schedulerActs));
        Response operatorLeases = auth.check("Bearer op-token", LEASES).orElseThrow();
        assertEquals(403, operatorLeases.getStatus());
        assertTrue(detail(operatorLeases).contains("needs the scheduler or coordinator credential"), detail(operatorLeases));
        assertEquals(403, auth.check("Bearer coord-token", OPERATOR).orElseThrow().getStatus());
        Response none = auth.check(null, OPERATOR).orElseThrow();
        assertEquals(401, none.getStatus());
        assertTrue(detail(none).contains("operator credential"), detail(none));
        for (Response r : List.of(schedulerActs, operatorLeases, none)) {
            assertFalse(detail(r).contains("-token"), "a secret in a message: " + detail(r));
        }
    }

    @Test
    void theOldTokenGrantsOnlyTheRolesThatHaveNoCredentialOfTheirOwn() throws Exception {
        Path old = token("token", "old-token");
        TokenAuth onlyOld = new TokenAuth(AuthSettings.legacy(old));
        assertTrue(onlyOld.check("Bearer old-token", OPERATOR).isEmpty());
        assertTrue(onlyOld.check("Bearer old-token", LEASES).isEmpty());
        assertTrue(onlyOld.checkNode("Bearer old-token", "any-node").isEmpty());
        assertEquals(old, onlyOld.tokenFile().orElseThrow());

        TokenAuth split = new TokenAuth(new AuthSettings(old, token("operator", "op-token"), null, null, null, null,
                null, false));
        assertEquals(403, split.check("Bearer old-token", OPERATOR).orElseThrow().getStatus(),
                "an operator credential of its own ends the old token's operator rights");
        assertTrue(split.check("Bearer op-token", OPERATOR).isEmpty());
        assertTrue(split.check("Bearer old-token", LEASES).isEmpty());
        assertEquals(dir.resolve("operator"), split.tokenFile().orElseThrow());
    }

    @Test
    void aNodeCredentialIsBoundToItsName() throws Exception {
        Path nodes = Files.createDirectory(dir.resolve("nodes"));
        token("nodes/node-a", "a-token");
        token("nodes/node-b", "b-token");
        TokenAuth auth = new TokenAuth(new AuthSettings(token("token", "old-token"), null, null, null, null, null,
                nodes, false));
        assertTrue(auth.checkNode("Bearer a-token", "node-a").isEmpty());
        assertTrue(auth.checkNode("Bearer b-token", "node-b").isEmpty());
        Response asB = auth.checkNode("Bearer a-token", "node-b").orElseThrow();
        assertEquals(403, asB.getStatus());
        assertTrue(detail(asB).contains("only heartbeat under its own name"), detail(asB));
        assertEquals(403, auth.checkNode("Bearer old-token", "node-a").orElseThrow().getStatus(),
                "with a node directory the old token is no node credential");
        assertEquals(403, auth.checkNode("Bearer a-token", "node-c").orElseThrow().getStatus());
        assertEquals(403, auth.checkNode("Bearer a-token", "../nodes/node-a").orElseThrow().getStatus());
        assertEquals(403, auth.checkNode("Bearer a-token", ".hidden").orElseThrow().getStatus());
        assertEquals(401, auth.checkNode(null, "node-a").orElseThrow().getStatus());

        Files.setPosixFilePermissions(nodes.resolve("node-a"), PosixFilePermissions.fromString("rw-r-----"));
        Response open = auth.checkNode("Bearer a-token", "node-a").orElseThrow();
        assertEquals(403, open.getStatus());
        assertTrue(detail(open).contains("not usable") && !detail(open).contains("chmod")
                && !detail(open).contains(nodes.toString()), "no path or permissions to the caller: " + detail(open));
    }

    @Test
    void readsAreOpenUnlessReadersMustPresentACredential() throws Exception {
        Path reader = token("reader", "read-token");
        Path operator = token("operator", "op-token");
        TokenAuth open = new TokenAuth(new AuthSettings(null, operator, null, null, reader, null, null, false));
        assertTrue(open.checkRead(null).isEmpty());
        TokenAuth closed = new TokenAuth(new AuthSettings(null, operator, null, null, reader, null, null, true));
        assertEquals(401, closed.checkRead(null).orElseThrow().getStatus());
        assertEquals(403, closed.checkRead("Bearer nope").orElseThrow().getStatus());
        assertTrue(closed.checkRead("Bearer read-token").isEmpty());
        assertTrue(closed.checkRead("Bearer op-token").isEmpty(), "every role may read");
        assertEquals(403, closed.check("Bearer read-token", OPERATOR).orElseThrow().getStatus(),
                "the reader credential changes nothing");
    }

    @Test
    void aChangedTokenFileIsReadAgain() throws Exception {
        Path file = token("token", "first");
        TokenAuth auth = new TokenAuth(AuthSettings.legacy(file));
        assertTrue(auth.check("Bearer first", OPERATOR).isEmpty());
        Files.writeString(file, "second");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        assertEquals(403, auth.check("Bearer first", OPERATOR).orElseThrow().getStatus());
        assertTrue(auth.check("Bearer second", OPERATOR).isEmpty());

        Files.delete(file);
        Response gone = auth.check("Bearer second", OPERATOR).orElseThrow();
        assertEquals(403, gone.getStatus());
        assertTrue(auth.permissionProblem().orElseThrow().contains("does not exist"), "the log's and the guard's words");
        assertFalse(detail(gone).contains("does not exist") || detail(gone).contains(file.toString()), detail(gone));
        Files.writeString(file, "  \n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Response empty = auth.check("Bearer second", OPERATOR).orElseThrow();
        assertEquals(403, empty.getStatus());
        assertTrue(auth.permissionProblem().orElseThrow().contains("empty"));
        Files.writeString(file, "third\n");
        assertTrue(auth.check("Bearer third", OPERATOR).isEmpty());
    }

    /** Before roles, the permissions were checked once at start and only in enforce mode. */
    @Test
    void aTokenFileThatBecameReadableByOthersIsRefusedAtOnceInEveryMode() throws Exception {
        Path file = token("token", "t0ken");
        TokenAuth auth = new TokenAuth(AuthSettings.legacy(file));
        assertTrue(auth.check("Bearer t0ken", OPERATOR).isEmpty());
        assertTrue(auth.permissionProblem().isEmpty());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));   // content unchanged
        Response refused = auth.check("Bearer t0ken", OPERATOR).orElseThrow();
        assertEquals(403, refused.getStatus());
        assertTrue(!detail(refused).contains("chmod") && !detail(refused).contains("rw-r--r--")
                && !detail(refused).contains(file.toString()) && !detail(refused).contains("t0ken"), detail(refused));
        assertTrue(auth.permissionProblem().orElseThrow().contains("chmod 600"));
        assertThrows(TokenAuth.TokenUnavailable.class, () -> auth.outgoing(AccessRole.NODE),
                "an open file is not sent either");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertTrue(auth.check("Bearer t0ken", OPERATOR).isEmpty());

        Path link = dir.resolve("link");
        Files.createSymbolicLink(link, file);
        TokenAuth linked = new TokenAuth(AuthSettings.legacy(link));
        assertEquals(403, linked.check("Bearer t0ken", OPERATOR).orElseThrow().getStatus());
        assertTrue(linked.permissionProblem().orElseThrow().contains("not a regular file"));
    }

    /** Issue 19: at a coordinator the old token is neither a node credential (under any name) nor the coordinator's. */
    @Test
    void atACoordinatorTheOldTokenGrantsNeitherTheNodeNorTheCoordinatorRole() throws Exception {
        Path old = token("token", "old-token");
        TokenAuth coordinator = new TokenAuth(AuthSettings.legacy(old), true);
        assertEquals(403, coordinator.checkNode("Bearer old-token", "any-node").orElseThrow().getStatus());
        assertEquals(403, coordinator.check("Bearer old-token", List.of(AccessRole.COORDINATOR)).orElseThrow()
                .getStatus());
        assertTrue(coordinator.check("Bearer old-token", OPERATOR).isEmpty(), "the other roles keep it until 0.2");
        assertTrue(coordinator.check("Bearer old-token", LEASES).isEmpty(), "as the scheduler");
        assertThrows(TokenAuth.TokenUnavailable.class, () -> coordinator.outgoing(AccessRole.COORDINATOR),
                "a coordinator sends no single token to agents");
        Path nodes = Files.createDirectory(dir.resolve("nodes"));
        token("nodes/node-a", "a-token");
        TokenAuth withDir = new TokenAuth(new AuthSettings(old, null, null, null, null, null, nodes, false), true);
        assertTrue(withDir.checkNode("Bearer a-token", "node-a").isEmpty());
        assertEquals(403, withDir.checkNode("Bearer old-token", "node-a").orElseThrow().getStatus());
    }

    /** Issue 19: a token file the agent's user does not own, or in a directory others can write, is refused. */
    @Test
    void aTokenFileOwnedByAnotherUserOrInAWritableDirectoryIsRefused() throws Exception {
        Path file = token("token", "t0ken");
        TokenAuth auth = new TokenAuth(AuthSettings.legacy(file));
        assertTrue(auth.check("Bearer t0ken", OPERATOR).isEmpty());

        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxr-x"));
        Response writable = auth.check("Bearer t0ken", OPERATOR).orElseThrow();
        assertEquals(403, writable.getStatus());
        assertTrue(auth.permissionProblem().orElseThrow().contains("group or others may write"));
        assertFalse(detail(writable).contains(dir.toString()), detail(writable));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        assertTrue(auth.check("Bearer t0ken", OPERATOR).isEmpty());

        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "only root can give a file to another user");
        Files.setOwner(file, file.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        assertEquals(403, auth.check("Bearer t0ken", OPERATOR).orElseThrow().getStatus());
        assertTrue(auth.permissionProblem().orElseThrow().contains("owned by nobody"));
    }

    @Test
    void outgoingCallsUseTheRolesOwnFileElseTheOldToken() throws Exception {
        Path old = token("token", "old-token");
        TokenAuth legacy = new TokenAuth(AuthSettings.legacy(old));
        assertEquals("Bearer old-token", legacy.outgoing(AccessRole.NODE));
        assertEquals("Bearer old-token", legacy.outgoing(AccessRole.COORDINATOR));
        TokenAuth own = new TokenAuth(new AuthSettings(old, null, null, token("coordinator", "coord-token"), null,
                token("node", "node-token"), null, false));
        assertEquals("Bearer node-token", own.outgoing(AccessRole.NODE));
        assertEquals("Bearer coord-token", own.outgoing(AccessRole.COORDINATOR));
        TokenAuth none = new TokenAuth(AuthSettings.legacy(null));
        String why = assertThrows(TokenAuth.TokenUnavailable.class, () -> none.outgoing(AccessRole.NODE)).getMessage();
        assertTrue(why.contains("gpu-agent.auth.node-token-file"), why);
    }

    private Path token(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static String detail(Response r) {
        return ((Problem) r.getEntity()).detail();
    }
}
