package io.gpuagent.agent.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.gpuagent.agent.journal.JsonlJournal;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 19: node-to-URL bindings survive a coordinator restart; forget removes one durably; the file stays small. */
class NodeBindingsTest {

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    @TempDir
    Path dir;

    private NodeBindings open() throws Exception {
        return new NodeBindings(dir, JSON, JsonlJournal.OnCorruption.REFUSE, Clock.systemUTC());
    }

    @Test
    void aBindingOutlivesARestartUntilForgotten() throws Exception {
        try (NodeBindings b = open()) {
            assertEquals("http://10.0.0.1:9400", b.bind("node-a", "http://10.0.0.1:9400"));
            assertEquals("http://10.0.0.2:9400", b.bind("node-b", "http://10.0.0.2:9400"));
            assertEquals("http://10.0.0.1:9400", b.bind("node-a", "http://10.6.6.6:9400"), "a bound name stays");
        }
        try (NodeBindings b = open()) {
            assertEquals(Optional.of("http://10.0.0.1:9400"), b.get("node-a"));
            assertEquals("http://10.0.0.1:9400", b.bind("node-a", "http://10.6.6.6:9400"), "after a restart too");
            assertTrue(b.forget("node-a"));
            assertFalse(b.forget("node-a"));
        }
        try (NodeBindings b = open()) {
            assertEquals(Optional.empty(), b.get("node-a"), "forget is durable");
            assertEquals(Optional.of("http://10.0.0.2:9400"), b.get("node-b"));
            assertEquals("http://10.6.6.6:9400", b.bind("node-a", "http://10.6.6.6:9400"));
        }
    }

    @Test
    void churnIsCompactedToTheLiveBindings() throws Exception {
        try (NodeBindings b = open()) {
            b.bind("stays", "http://10.0.0.9:9400");
            for (int i = 0; i < 600; i++) {
                b.bind("n" + i, "http://10.0.1." + (i % 250) + ":9400");
                b.forget("n" + i);
            }
            assertEquals(1, b.size());
            assertTrue(b.lines() <= 1 + 2L * 256, "lines: " + b.lines());
        }
        try (NodeBindings b = open()) {
            assertEquals(1, b.size());
            assertEquals(Optional.of("http://10.0.0.9:9400"), b.get("stays"));
        }
    }
}
