package io.gpuagent.agent.journal;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code gpu_agent_journal_up{journal}} on {@code /metrics}: one series per state file of the agent role, 1 while writable. */
@QuarkusTest
class JournalUpMetricTest {

    @Test
    void theAgentsFourStateFilesAreUp() {
        String metrics = given().get("/metrics").then().statusCode(200).extract().asString();
        assertEquals(List.of(
                        "gpu_agent_journal_up{journal=\"actions.jsonl\",} 1.0",
                        "gpu_agent_journal_up{journal=\"events.jsonl\",} 1.0",
                        "gpu_agent_journal_up{journal=\"leases.jsonl\",} 1.0",
                        "gpu_agent_journal_up{journal=\"usage.jsonl\",} 1.0"),
                metrics.lines().filter(l -> l.startsWith("gpu_agent_journal_up{journal=\"") && l.contains(".jsonl\""))
                        .sorted().toList(),
                "no placements.jsonl: that is the coordinator's");
    }
}
