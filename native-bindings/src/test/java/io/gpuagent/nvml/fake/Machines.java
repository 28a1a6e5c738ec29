package io.gpuagent.nvml.fake;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Curated machines for the fake driver: real boards' identities, so a test names the host it stands on. */
public final class Machines {
    /** The scenario file behind {@link #h100Mig()}, in this test kit (and at native-bindings/src/test/resources). */
    public static final String H100_MIG_FILE = "/scenarios/h100-mig.conf";

    private Machines() {
    }

    /**
     * A DGX H100 with all eight GPUs in MIG mode, four MIG devices each, profiles mixed. GPU 0 holds exactly
     * 1g.10gb x3 (GPU instances 7, 8, 9) and 3g.40gb x1 (GPU instance 2, busy: 18 GiB used by pid 4100, GPM
     * graphics 62.5 %); GPU 7 splits GPU instance 2 into three 1c.3g.40gb compute instances. The machine is the
     * file {@value #H100_MIG_FILE}, so the demo and the tests run the same one.
     */
    public static Scenario h100Mig() {
        try (InputStream in = Machines.class.getResourceAsStream(H100_MIG_FILE)) {
            if (in == null) {
                throw new IllegalStateException(H100_MIG_FILE + " is not in the test kit");
            }
            return Scenario.defaults().line(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A DGX H100: 8 H100 SXM5 on NVSwitches (the fake's defaults, spelled out). */
    public static Scenario dgxH100() {
        return Scenario.gpus(8);
    }

    /**
     * Four A100 80GB PCIe cards in one server: no NVLink, fans, 300 W limits, Ampere, two cards per PCIe
     * switch and the pairs across CPU sockets.
     */
    public static Scenario a100Pcie() {
        return Scenario.gpus(4)
                .all("name", "NVIDIA A100 80GB PCIe")
                .all("pci_device_id", "0x20B510DE")
                .all("pci_subsystem_id", "0x153310DE")
                .all("architecture", 7)
                .all("cc_major", 8)
                .all("cc_minor", 0)
                .all("vbios", "92.00.90.00.04")
                .all("memory_total_mib", 81920)
                .all("power_mw", 42000)
                .all("power_limit_mw", 300000)
                .all("power_default_limit_mw", 300000)
                .all("power_min_limit_mw", 150000)
                .all("power_max_limit_mw", 300000)
                .all("max_clock_graphics", 1410)
                .all("max_clock_sm", 1410)
                .all("clock_mem", 1512)
                .all("max_clock_mem", 1512)
                .all("fans", 1)
                .all("pcie_gen_max", 4)
                .all("pcie_gen", 4)
                .all("nvlinks", 0)
                .all("gpm_supported", 0)
                .line("topology.0.1 = 20")
                .line("topology.2.3 = 20")
                .line("topology.0.2 = 50")
                .line("topology.0.3 = 50")
                .line("topology.1.2 = 50")
                .line("topology.1.3 = 50");
    }
}
