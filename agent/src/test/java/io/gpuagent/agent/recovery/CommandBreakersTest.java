package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 finding 11: each configured command has its own circuit breaker, so a reboot command that is not
 * installed cannot stop resets. A {@code @QuarkusTest} because the breakers are SmallRye Fault Tolerance
 * guards, which need its runtime; the keys are this test's own, so no other test's breakers are touched.
 */
@QuarkusTest
class CommandBreakersTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Inject
    Commands commands;

    @Test
    void aCommandThatCannotStartOpensOnlyItsOwnBreaker() throws Exception {
        String broken = "breakers-test.reboot-command";
        String working = "breakers-test.reset-command";
        List<String> notInstalled = List.of("/nonexistent/gpu-agent-breakers-test");
        for (int i = 0; i < 4; i++) {
            assertThrows(IOException.class, () -> commands.run(broken, notInstalled, TIMEOUT));
        }
        CircuitBreakerOpenException open = assertThrows(CircuitBreakerOpenException.class,
                () -> commands.run(broken, List.of("sh", "-c", "true"), TIMEOUT), "four failed starts open the breaker");
        assertTrue(String.valueOf(open.getMessage()).contains(broken), "the open breaker names its command: " + open.getMessage());

        Commands.Outcome reset = commands.run(working, List.of("sh", "-c", "echo reset done"), TIMEOUT);
        assertTrue(reset.ok(), "another command's breaker stays closed: " + reset.describe());
    }
}
