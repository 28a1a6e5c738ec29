package io.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /etc/gpu-agent/agent.properties: absent is fine, present is read, present but unreadable stops the start. */
class HostConfigSourceTest {

    @TempDir
    Path dir;

    @Test
    void aMissingFileIsNoSourceAndAFileIsRead() throws Exception {
        assertEquals(0, HostConfigSource.sources(dir.resolve("agent.properties")).size());
        Path file = Files.writeString(dir.resolve("agent.properties"), "gpu-agent.sample-interval=2s\n");
        var sources = HostConfigSource.sources(file);
        assertEquals("2s", sources.getFirst().getValue("gpu-agent.sample-interval"));
    }

    @Test
    void aFileThatIsThereButCannotBeReadStopsTheStart() throws Exception {
        // A dangling link stands for "there but unreadable" even as root (CI), where permissions do not stop reads.
        Path link = Files.createSymbolicLink(dir.resolve("agent.properties"), dir.resolve("gone.properties"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> HostConfigSource.sources(link));
        assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
        Path directory = Files.createDirectory(dir.resolve("as-a-directory"));
        assertThrows(IllegalStateException.class, () -> HostConfigSource.sources(directory));
        assertEquals(1, HostConfigSource.sources(Path.of("/dev/null")).size(), "GPU_AGENT_CONFIG=/dev/null: no settings");
    }
}
