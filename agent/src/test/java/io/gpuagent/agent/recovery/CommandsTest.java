package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Command templates (no shell: a value stays one argument) and running them with a bound and captured output. */
class CommandsTest {

    private static final Set<String> VARS = Set.of("index", "uuid", "reason");

    @Test
    void placeholdersFillArgumentsAndNeverSplitOrInject() {
        CommandTemplate t = CommandTemplate.parse("k", "scontrol update 'Reason=gpu {index}: {reason}' -i {index}", VARS);
        assertEquals(List.of("scontrol", "update", "Reason=gpu 3: x; rm -rf / $(id)", "-i", "3"),
                t.argv(Map.of("index", "3", "reason", "x; rm -rf / $(id)")));
        assertEquals(List.of("a", "b c", "d"), CommandTemplate.parse("k", "a \"b c\"   d", VARS).argv(Map.of()));
        assertEquals(List.of("echo", "a b"), CommandTemplate.parse("k", "echo {reason}", VARS)
                .argv(Map.of("reason", "a\nb")));
    }

    @Test
    void aReasonReachesTheCommandAsOneLineWithoutC1BidiOrSeparators() {
        CommandTemplate t = CommandTemplate.parse("k", "scontrol update 'Reason=gpu-agent: {reason}'", VARS);
        // NEL, CSI (C1), LINE SEPARATOR, RIGHT-TO-LEFT OVERRIDE, POP DIRECTIONAL ISOLATE, ZERO WIDTH SPACE, ESC.
        String hostile = "XID 79\u0085State=RESUME\u009B2J\u2028second line\u202Eevil\u2069\u200B\u001B[0m done";
        assertEquals(List.of("scontrol", "update", "Reason=gpu-agent: XID 79 State=RESUME 2J second line evil [0m done"),
                t.argv(Map.of("reason", hostile)));
        String longReason = t.argv(Map.of("reason", "r".repeat(5000))).get(2);
        assertEquals("Reason=gpu-agent: ".length() + CommandTemplate.VALUE_MAX + 3, longReason.length(), longReason);
    }

    @Test
    void mistakesAreStartupErrorsNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CommandTemplate.parse("gpu-agent.recovery.reset-command", "nvidia-smi -r -i {gpu}", VARS));
        assertTrue(e.getMessage().contains("gpu-agent.recovery.reset-command") && e.getMessage().contains("{gpu}"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("k", "echo 'open", VARS));
        assertThrows(IllegalArgumentException.class, () -> CommandTemplate.parse("k", "   ", VARS));
    }

    @Test
    void exitCodesOutputAndTimeouts() throws Exception {
        Commands.Outcome ok = Commands.execute(List.of("sh", "-c", "echo reset done"), Duration.ofSeconds(10));
        assertTrue(ok.ok());
        assertEquals("reset done\n", ok.output());
        Commands.Outcome failed = Commands.execute(List.of("sh", "-c", "echo in use >&2; exit 3"), Duration.ofSeconds(10));
        assertFalse(failed.ok());
        assertEquals(3, failed.exitCode());
        assertTrue(failed.describe().contains("exit 3") && failed.describe().contains("in use"), failed.describe());
        Commands.Outcome hung = Commands.execute(List.of("sh", "-c", "sleep 30 & wait"), Duration.ofMillis(300));
        assertTrue(hung.timedOut());
        assertTrue(hung.millis() < 10_000, "killed at the timeout, not when it ended: " + hung.millis());
        Commands.Outcome chatty = Commands.execute(List.of("sh", "-c", "yes x | head -c 100000"), Duration.ofSeconds(10));
        assertTrue(chatty.output().length() <= Commands.OUTPUT_LIMIT + 3 && chatty.output().startsWith("..."));
    }
}
