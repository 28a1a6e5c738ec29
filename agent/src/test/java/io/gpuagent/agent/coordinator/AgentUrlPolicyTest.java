package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Issue 19: an agentUrl must have the scheme the configuration demands and must not lead to a loopback,
 * link-local, any-local or multicast address, whether written as a literal or reached through a name (which
 * may resolve differently at each call).
 */
class AgentUrlPolicyTest {

    /** A resolver whose answers the test sets: a name that moves to loopback is refused at the next check. */
    static final class Names implements AgentUrlPolicy.Resolver {
        final Map<String, String> answers = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            String a = answers.get(host);
            if (a == null) {
                return InetAddress.getAllByName(host);   // literals only; the tests use no real names
            }
            return new InetAddress[] {InetAddress.getByName(a)};
        }
    }

    @Test
    void formsAndAddressesThatAreRefused() {
        Names names = new Names();
        names.answers.put("gpu-7.cluster", "10.1.2.7");
        names.answers.put("metadata.cluster", "169.254.169.254");
        AgentUrlPolicy strict = new AgentUrlPolicy(false, false, names);
        assertEquals(Optional.empty(), strict.check("http://gpu-7.cluster:9400"));
        assertEquals(Optional.empty(), strict.check("https://10.1.2.7:9400/"));
        assertEquals(400, status(strict, "ftp://gpu-7.cluster"));
        assertEquals(400, status(strict, "gpu-7.cluster:9400"));
        assertEquals(400, status(strict, "http://"));
        for (String local : new String[] {"http://127.0.0.1:9400", "http://[::1]:9400", "http://169.254.169.254/",
                "http://metadata.cluster:9400", "http://0.0.0.0:9400", "http://[::]:9400", "http://224.0.0.1:9400",
                "http://[fe80::1]:9400"}) {
            assertEquals(403, status(strict, local), local);
            assertTrue(strict.check(local).orElseThrow().detail().contains("leads to"), local);
        }

        AgentUrlPolicy loopbackAllowed = new AgentUrlPolicy(false, true, names);
        assertEquals(Optional.empty(), loopbackAllowed.check("http://127.0.0.1:9400"));
        assertEquals(Optional.empty(), loopbackAllowed.check("http://localhost:9400"));
        assertEquals(403, status(loopbackAllowed, "http://0.0.0.0:9400"), "any-local is never an agent");
        assertEquals(403, status(loopbackAllowed, "http://224.0.0.1:9400"), "nor multicast");

        AgentUrlPolicy https = new AgentUrlPolicy(true, false, names);
        assertEquals(400, status(https, "http://gpu-7.cluster:9400"));
        assertTrue(https.check("http://gpu-7.cluster:9400").orElseThrow().detail().contains("https"));
        assertEquals(Optional.empty(), https.check("https://gpu-7.cluster:9400"));
    }

    @Test
    void aNameIsResolvedAgainAtEachCheck() {
        Names names = new Names();
        names.answers.put("gpu-7.cluster", "10.1.2.7");
        AgentUrlPolicy strict = new AgentUrlPolicy(false, false, names);
        assertEquals(Optional.empty(), strict.check("http://gpu-7.cluster:9400"));
        names.answers.put("gpu-7.cluster", "127.0.0.1");   // DNS changed after the node registered
        assertEquals(403, status(strict, "http://gpu-7.cluster:9400"));
    }

    private static int status(AgentUrlPolicy p, String url) {
        return p.check(url).orElseThrow(() -> new AssertionError(url + " was accepted")).status();
    }
}
