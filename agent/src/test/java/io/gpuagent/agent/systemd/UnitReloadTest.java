package io.gpuagent.agent.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shipped unit turns {@code systemctl reload gpu-agent} into the SIGHUP that {@link HangupSignal} handles. */
class UnitReloadTest {

    static final Path UNIT = Path.of("../systemd/gpu-agent.service");
    static final Path JDK_MODULES = Path.of("../systemd/debian/jdk-modules");

    @Test
    void reloadSendsSighupToTheAgentOnly() throws IOException {
        List<String> reload = Files.readAllLines(UNIT).stream().filter(l -> l.startsWith("ExecReload=")).toList();
        assertEquals(List.of("ExecReload=/bin/kill -HUP $MAINPID"), reload);
        assertTrue(Files.readAllLines(UNIT).contains("Type=notify"), "RELOADING=1 / READY=1 need Type=notify");
    }

    @Test
    void thePackagedRuntimeHasSunMiscSignal() throws IOException {
        assertTrue(List.of(Files.readString(JDK_MODULES).strip().split(",")).contains("jdk.unsupported"),
                "sun.misc.Signal is in jdk.unsupported");
    }
}
