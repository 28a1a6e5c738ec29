package io.gpuagent.nvml.ffm;

import io.gpuagent.nvml.Nvml;

/**
 * Run in a child JVM by {@link BadScenarioTest}: opens the fake named by {@code args[0]} (its scenario comes
 * from {@code FAKE_NVML_SCENARIO}) and prints a few readings, so the test sees the process survive the
 * scenario's bad lines and apply its good ones.
 */
public final class ScenarioProbe {
    private ScenarioProbe() {
    }

    public static void main(String[] args) {
        try (Nvml nvml = Nvml.open(args[0])) {
            System.out.println("gpus=" + nvml.deviceCount());
            System.out.println("temp0=" + nvml.device(0).temperature());
            System.out.println("name0=" + nvml.device(0).name());
            for (int i = 0; i < nvml.deviceCount(); i++) {
                // GPU instance / compute instance of each MIG device: what survived the MIG check.
                System.out.println("mig" + i + "=" + String.join(",", nvml.device(i).migDevices().stream()
                        .map(d -> d.gpuInstanceId() + "/" + d.computeInstanceId()).toList()));
            }
        }
    }
}
