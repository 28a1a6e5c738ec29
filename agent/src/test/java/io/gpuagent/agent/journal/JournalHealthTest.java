package io.gpuagent.agent.journal;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.nvml.fake.FakeNvml;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 finding 7, end to end: a failed journal makes /health 503 with its reason and
 * gpu_agent_journal_up{journal} 0, until the agent has reopened it. The journal here is a stand-in whose
 * disk the test breaks and heals (JournalWatchTest does it with a real EventLog and an injected fsync fault).
 */
@QuarkusTest
class JournalHealthTest {

    static final String NAME = "health-test";

    @Inject
    JournalWatch watch;

    @Test
    void aFailedJournalFailsHealthUntilItIsReopened() {
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicBoolean diskBack = new AtomicBoolean();
        watch.register(NAME, new JournalWatch.Watched() {
            @Override
            public Optional<String> failure() {
                return Optional.ofNullable(failure.get());
            }

            @Override
            public void reopen() throws IOException {
                if (!diskBack.get()) {
                    throw new IOException("Read-only file system (injected)");
                }
                failure.set(null);
            }
        });
        given().get("/health").then().statusCode(200);

        failure.set("fsync failed: Input/output error (injected)");
        given().get("/health").then().statusCode(503)
                .body("healthy", equalTo(false))
                .body("reason", containsString("journal " + NAME + ": fsync failed: Input/output error (injected)"));
        assertUp(NAME, 0);

        diskBack.set(true);
        FakeNvml.eventually(Duration.ofSeconds(10), () -> given().get("/health").then().statusCode(200));
        assertUp(NAME, 1);
        assertUp(EventLog.FILE_NAME, 1);
    }

    private static void assertUp(String journal, int value) {
        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        Pattern line = Pattern.compile("(?m)^gpu_agent_journal_up\\{journal=\"" + Pattern.quote(journal) + "\",?} " + value + "\\.0$");
        assertTrue(line.matcher(metrics).find(), "gpu_agent_journal_up{journal=\"" + journal + "\"} " + value);
    }
}
