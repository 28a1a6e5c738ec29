package io.gpuagent.agent.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes enforce overlay promises enforce mode without any Linux privilege (docs/kubernetes.md): its policy
 * must have no step that needs CAP_SYS_ADMIN or CAP_KILL, and every default rule that had one must be overridden.
 */
class KubernetesEnforcePolicyTest {

    private static final Path PROPERTIES = Path.of("../kubernetes/overlays/enforce/agent.properties");

    @Test
    void theOverlaysPolicyNeedsNoPrivilege() throws Exception {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(PROPERTIES)) {
            p.load(in);
        }
        assertEquals("enforce", p.getProperty("gpu-agent.recovery.mode"));
        Map<String, String> overrides = new TreeMap<>();
        String prefix = "gpu-agent.recovery.policy.";
        p.stringPropertyNames().stream().filter(k -> k.startsWith(prefix))
                .forEach(k -> overrides.put(k.substring(prefix.length()), p.getProperty(k)));

        Set<Step> steps = PrivilegeCheck.steps(overrides);
        Set<Step> privileged = EnumSet.of(Step.RESET, Step.POWER_CAP, Step.RESET_CLOCKS, Step.TERMINATE);
        privileged.retainAll(steps);
        assertEquals(Set.of(), privileged, "steps that need CAP_SYS_ADMIN or CAP_KILL: " + new RecoveryPolicy(overrides).describe());
        assertTrue(steps.containsAll(Set.of(Step.CORDON, Step.DRAIN, Step.REQUEST_REBOOT)), steps.toString());
    }
}
