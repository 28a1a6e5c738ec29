package io.gpuagent.agent.slurm;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.gpuagent.agent.lease.LeaseTestSupport;
import io.gpuagent.nvml.fake.FakeNvml;
import io.gpuagent.nvml.fake.Machines;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The test agent's MIG devices as Slurm 22.05 sees them, and the two ways slurmd can be told about them
 * ({@link RealSlurm.NodeGres}), from the agent's {@code GET /v1/gpus}:
 * <ul>
 * <li>{@link #handWritten}: gres.conf lists each MIG device with {@code MultipleFiles} (its GPU, its GPU instance's
 * and compute instance's capability devices), typed as autodetect would, in {@link #slurmOrder}: what Debian's
 * slurmd, built without NVML, needs. Slurm then knows the devices by index only.</li>
 * <li>{@link #autodetected}: what slurmd's NVML autodetect reports for the same devices (gpu_nvml.c,
 * {@code _handle_mig}), given to Debian's slurmd through fake_gpus.conf, Slurm's own stand-in for its gpu plugin:
 * the type slurmd derives, the same files, and the MIG UUID as each device's unique id, with NVML's environment
 * flag. slurmd merges those with slurm.conf's {@code Gres=} as it merges what NVML reports, and hands the prolog
 * and the job the UUIDs in CUDA_VISIBLE_DEVICES. Only the NVML calls themselves are not run.</li>
 * </ul>
 * Capability minors are numbered as the driver numbers them in /proc/driver/nvidia-caps/mig-minors (the MIG user
 * guide's listing: {@code gpu0/gi0/access 3}, {@code gpu0/gi0/ci0/access 4}, ... {@code gpu31/gi14/ci7/access
 * 4322}: 9 per GPU instance, 15 GPU instances per GPU); the GPUs' minors are their indices, as on the fake.
 */
final class SlurmMigNode {

    /** The major number of /dev/nvidia-caps/* (the driver registers it dynamically; slurmd only stat()s). */
    private static final int CAPS_MAJOR = 508;
    private static final int NVIDIA_MAJOR = 195;

    /** One MIG device, in the order of the agent's list: GPU index, then GPU instance, then compute instance. */
    record MigDevice(int gpu, String gpuName, int gpuInstanceId, int computeInstanceId, String uuid, String profile,
                     int slices, long memoryMib) {

        /**
         * The gres type slurmd's NVML autodetect gives this MIG device (gpu_nvml.c at slurm-22-05-8-1): the GPU's
         * name lower-cased with blanks as underscores, cut at its first '-', then {@code _<GPU instance slices>g.<its
         * memory in MiB / 1024, rounded>gb}. A compute instance smaller than its GPU instance and a {@code +me}
         * profile get their GPU instance's name.
         */
        String autodetectType() {
            String model = gpuName.toLowerCase(Locale.ROOT).replace(' ', '_');
            int dash = model.indexOf('-');
            if (dash >= 0) {
                model = model.substring(0, dash);
            }
            return model + "_" + type();
        }

        /** The part of {@link #autodetectType} after the model: what slurm.conf, gres.conf and jobs name it by. */
        String type() {
            return slices + "g." + Math.round(memoryMib / 1024.0) + "gb";
        }

        int giMinor() {
            return 3 + gpu * 135 + gpuInstanceId * 9;
        }

        int ciMinor() {
            return giMinor() + 1 + computeInstanceId;
        }

        /** The files Slurm gives a job for this device: its GPU, its GPU instance's and compute instance's access. */
        String files(Path dev) {
            return dev.resolve("nvidia" + gpu) + "," + dev.resolve("nvidia-caps/nvidia-cap" + giMinor()) + ","
                    + dev.resolve("nvidia-caps/nvidia-cap" + ciMinor());
        }
    }

    /** The agent's order: GPU index, GPU instance, compute instance. */
    final List<MigDevice> devices;
    /**
     * The order slurmd numbers them in when configured by hand as docs/slurm.md says: slurmd takes slurm.conf's
     * {@code Gres=} types in order and each type's gres.conf lines in order (gres.c {@code _merge_config}), and
     * both list the types sorted; within a type, the agent's order.
     */
    final List<MigDevice> slurmOrder;

    private SlurmMigNode(List<MigDevice> devices) {
        this.devices = devices;
        this.slurmOrder = devices.stream().sorted(Comparator.comparing(MigDevice::type)).toList();
    }

    /**
     * Puts the fake in MIG mode ({@link Machines#h100Mig}: 8 H100s, four MIG devices each, profiles mixed), waits
     * until the agent can lease every MIG device (clearing any GPU's health the new scenario left unsettled), and
     * returns them.
     */
    @SuppressWarnings("unchecked")
    static SlurmMigNode h100Mig() {
        FakeNvml.write(Machines.h100Mig());
        FakeNvml.eventually(Duration.ofSeconds(20), () -> {
            Map<String, Object> inventory = given().get("/v1/inventory").then().statusCode(200).extract().jsonPath().getMap("$");
            for (Map<String, Object> g : (List<Map<String, Object>>) inventory.get("gpus")) {
                if (!"HEALTHY".equals(g.get("health")) && !"INITIALIZING".equals(g.get("health"))) {
                    LeaseTestSupport.authed().post("/v1/gpus/" + g.get("index") + "/health/clear");
                }
                assertEquals(true, g.get("migMode"), "GPU " + g.get("index") + " in MIG mode: " + g);
            }
            List<Map<String, Object>> mig = (List<Map<String, Object>>) inventory.get("mig");
            assertFalse(mig.isEmpty(), "MIG devices in the inventory");
            assertEquals(List.of(), mig.stream().filter(m -> !Boolean.TRUE.equals(m.get("leasable"))).toList(),
                    "every MIG device leasable");
        });
        return fromAgent();
    }

    /** The agent's MIG devices now; fails unless every GPU is in MIG mode (the node is a MIG node). */
    @SuppressWarnings("unchecked")
    static SlurmMigNode fromAgent() {
        List<Map<String, Object>> gpus = given().get("/v1/gpus").then().statusCode(200).extract().jsonPath().getList("gpus");
        List<MigDevice> out = new ArrayList<>();
        for (Map<String, Object> g : gpus) {
            Map<String, Object> readings = (Map<String, Object>) g.get("readings");
            if (!(readings.get("mig_mode") instanceof Number mode) || mode.intValue() != 1) {
                throw new AssertionError("GPU " + g.get("index") + " is not in MIG mode: " + readings);
            }
            for (Map<String, Object> m : (List<Map<String, Object>>) g.get("migDevices")) {
                out.add(new MigDevice((Integer) g.get("index"), (String) g.get("name"), (Integer) m.get("gpuInstanceId"),
                        (Integer) m.get("computeInstanceId"), (String) m.get("uuid"), (String) m.get("profile"),
                        (Integer) m.get("slices"), ((Number) m.get("memoryMib")).longValue()));
            }
        }
        if (out.isEmpty()) {
            throw new AssertionError("no MIG devices in GET /v1/gpus: " + gpus);
        }
        return new SlurmMigNode(List.copyOf(out));
    }

    /** slurm.conf's {@code Gres=}: each type with its count, e.g. {@code gpu:1g.10gb:17,gpu:3g.40gb:7}. */
    String gres() {
        return countsByType().entrySet().stream().map(e -> "gpu:" + e.getKey() + ":" + e.getValue())
                .collect(Collectors.joining(","));
    }

    Map<String, Long> countsByType() {
        return devices.stream().collect(Collectors.groupingBy(MigDevice::type, TreeMap::new, Collectors.counting()));
    }

    /**
     * gres.conf's lines for this node as Debian's slurmd must be told (agent/slurm/gpu-agent-gres-conf prints them):
     * one per MIG device, in {@link #slurmOrder}.
     */
    String gresConfLines(String node, Path dev) {
        StringBuilder conf = new StringBuilder();
        for (MigDevice d : slurmOrder) {
            conf.append("NodeName=").append(node).append(" Name=gpu Type=").append(d.type())
                    .append(" MultipleFiles=").append(d.files(dev)).append('\n');
        }
        return conf.toString();
    }

    /** The node configured by hand with {@code gresConf} (gres.conf's text for device files under {@code dev}). */
    RealSlurm.NodeGres handWritten(String gresConf) {
        return new RealSlurm.NodeGres(gres(), gresConf, "", deviceNodes());
    }

    /**
     * /proc/driver/nvidia-caps/mig-minors as the driver writes it for the GPUs this node has: every capability of
     * every GPU instance and compute instance id, numbered in that order after {@code config 1} and
     * {@code monitor 2}.
     */
    String migMinors() {
        StringBuilder out = new StringBuilder("config 1\nmonitor 2\n");
        int gpus = devices.stream().mapToInt(MigDevice::gpu).max().orElseThrow() + 1;
        for (int g = 0; g < gpus; g++) {
            for (int gi = 0; gi < 15; gi++) {
                int minor = 3 + g * 135 + gi * 9;
                out.append("gpu").append(g).append("/gi").append(gi).append("/access ").append(minor).append('\n');
                for (int ci = 0; ci < 8; ci++) {
                    out.append("gpu").append(g).append("/gi").append(gi).append("/ci").append(ci).append("/access ")
                            .append(minor + 1 + ci).append('\n');
                }
            }
        }
        return out.toString();
    }

    /**
     * The node as slurmd's NVML autodetect would find it (fake_gpus.conf, see the class comment), with a gres.conf
     * that holds no GPU line, as a site's {@code AutoDetect=nvml} one (which Debian's slurmd refuses, having no NVML).
     */
    RealSlurm.NodeGres autodetected(Path dev, int cpus) {
        StringBuilder fake = new StringBuilder("# what gpu_nvml.c reports for the fake's MIG devices (written by SlurmMigNode)\n");
        Map<Integer, Long> perGpu = devices.stream().collect(Collectors.groupingBy(MigDevice::gpu, Collectors.counting()));
        Map<Integer, Integer> seen = new TreeMap<>();
        for (MigDevice d : devices) {
            int j = seen.merge(d.gpu(), 1, Integer::sum) - 1;
            // gres_links_create_empty(j, mig_count): -1 at the device's position among its GPU's MIG devices.
            List<String> links = new ArrayList<>();
            for (int i = 0; i < perGpu.get(d.gpu()); i++) {
                links.add(i == j ? "-1" : "0");
            }
            String line = String.join("|", d.autodetectType(), String.valueOf(cpus), "0-" + (cpus - 1),
                    String.join(",", links), d.files(dev), d.uuid(), "nvidia_gpu_env");
            if (line.length() > 254) {
                throw new AssertionError("fake_gpus.conf lines must fit slurmd's 256-byte buffer: " + line);
            }
            fake.append(line).append('\n');
        }
        return new RealSlurm.NodeGres(gres(), "# AutoDetect=nvml stands here on a slurmd built with NVML\n",
                fake.toString(), deviceNodes());
    }

    List<RealSlurm.CharDevice> deviceNodes() {
        List<RealSlurm.CharDevice> out = new ArrayList<>();
        devices.stream().mapToInt(MigDevice::gpu).distinct()
                .forEach(g -> out.add(new RealSlurm.CharDevice("nvidia" + g, NVIDIA_MAJOR, g)));
        for (MigDevice d : devices) {
            out.add(new RealSlurm.CharDevice("nvidia-caps/nvidia-cap" + d.giMinor(), CAPS_MAJOR, d.giMinor()));
            out.add(new RealSlurm.CharDevice("nvidia-caps/nvidia-cap" + d.ciMinor(), CAPS_MAJOR, d.ciMinor()));
        }
        return out.stream().distinct().toList();
    }

    /** The device at Slurm's index {@code i} with a gres.conf written by hand ({@link #slurmOrder}). */
    MigDevice atIndex(int i) {
        return slurmOrder.get(i);
    }

    MigDevice byUuid(String uuid) {
        return devices.stream().filter(d -> d.uuid().equals(uuid)).findFirst()
                .orElseThrow(() -> new AssertionError("no MIG device " + uuid + " in " + devices));
    }
}
