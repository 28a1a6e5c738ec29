package io.gpuagent.nvml.check;

import io.gpuagent.nvml.ClockType;
import io.gpuagent.nvml.DeviceHolders;
import io.gpuagent.nvml.EccCounterType;
import io.gpuagent.nvml.EventSet;
import io.gpuagent.nvml.EventTypes;
import io.gpuagent.nvml.FieldIds;
import io.gpuagent.nvml.FieldRequest;
import io.gpuagent.nvml.GpmMetricIds;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuDevice;
import io.gpuagent.nvml.MemoryErrorType;
import io.gpuagent.nvml.MigDevice;
import io.gpuagent.nvml.NvLinkErrorCounter;
import io.gpuagent.nvml.Nvml;
import io.gpuagent.nvml.NvmlException;
import io.gpuagent.nvml.P2pCapability;
import io.gpuagent.nvml.PcieCounter;
import io.gpuagent.nvml.RetirementCause;
import io.gpuagent.nvml.TemperatureThreshold;
import io.gpuagent.nvml.ffm.Layouts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The real-GPU validation kit's program (see native-bindings/README.md): on a GPU host, (1) compares our
 * struct layouts with the host's nvml.h, (2) reads every binding on every GPU, (3) compares identity and
 * readings with {@code nvidia-smi --query-gpu}. Writes a Markdown report; exits 1 when a layout or an
 * identity value disagrees, 2 when NVML cannot be opened.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp native-bindings.jar io.gpuagent.nvml.check.RealGpuCheck
 *     [--library libnvidia-ml.so.1] [--layout c-layout.txt] [--nvidia-smi query.csv] [--out report.md]</pre>
 */
public final class RealGpuCheck {

    /** The {@code nvidia-smi --query-gpu} fields {@link #compareWithNvidiaSmi} understands, in this order. */
    public static final String NVIDIA_SMI_QUERY = "index,uuid,name,pci.bus_id,memory.total,memory.used,utilization.gpu,"
            + "temperature.gpu,power.draw,power.limit,clocks.sm,clocks.max.sm,pstate,ecc.errors.uncorrected.volatile.total";

    private record Probe(String name, Function<GpuDevice, Object> read) {
    }

    private static final List<Probe> PROBES = List.of(
            new Probe("name", GpuDevice::name),
            new Probe("uuid", GpuDevice::uuid),
            new Probe("serial", GpuDevice::serial),
            new Probe("minorNumber", GpuDevice::minorNumber),
            new Probe("pciInfo", GpuDevice::pciInfo),
            new Probe("architecture", GpuDevice::architecture),
            new Probe("computeCapability", GpuDevice::computeCapability),
            new Probe("vbiosVersion", GpuDevice::vbiosVersion),
            new Probe("brand", GpuDevice::brand),
            new Probe("memoryInfo", GpuDevice::memoryInfo),
            new Probe("bar1MemoryInfo", GpuDevice::bar1MemoryInfo),
            new Probe("utilizationRates", GpuDevice::utilizationRates),
            new Probe("encoderUtilization", GpuDevice::encoderUtilization),
            new Probe("decoderUtilization", GpuDevice::decoderUtilization),
            new Probe("temperature", GpuDevice::temperature),
            new Probe("temperatureThreshold(SLOWDOWN)", d -> d.temperatureThreshold(TemperatureThreshold.SLOWDOWN)),
            new Probe("temperatureThreshold(SHUTDOWN)", d -> d.temperatureThreshold(TemperatureThreshold.SHUTDOWN)),
            new Probe("powerUsageMw", GpuDevice::powerUsageMw),
            new Probe("powerLimitMw", GpuDevice::powerLimitMw),
            new Probe("powerDefaultLimitMw", GpuDevice::powerDefaultLimitMw),
            new Probe("enforcedPowerLimitMw", GpuDevice::enforcedPowerLimitMw),
            new Probe("powerLimitConstraints", GpuDevice::powerLimitConstraints),
            new Probe("totalEnergyMj", GpuDevice::totalEnergyMj),
            new Probe("clockMhz(SM)", d -> d.clockMhz(ClockType.SM)),
            new Probe("clockMhz(MEM)", d -> d.clockMhz(ClockType.MEM)),
            new Probe("maxClockMhz(SM)", d -> d.maxClockMhz(ClockType.SM)),
            new Probe("maxClockMhz(MEM)", d -> d.maxClockMhz(ClockType.MEM)),
            new Probe("clockEventReasons", d -> "0x" + Long.toHexString(d.clockEventReasons())),
            new Probe("supportedClockEventReasons", d -> "0x" + Long.toHexString(d.supportedClockEventReasons())),
            new Probe("performanceState", GpuDevice::performanceState),
            new Probe("fanCount", GpuDevice::fanCount),
            new Probe("fanSpeedPercent(0)", d -> d.fanSpeedPercent(0)),
            new Probe("pcieThroughputKBps(TX)", d -> d.pcieThroughputKBps(PcieCounter.TX_BYTES)),
            new Probe("pcieThroughputKBps(RX)", d -> d.pcieThroughputKBps(PcieCounter.RX_BYTES)),
            new Probe("pcieReplayCounter", GpuDevice::pcieReplayCounter),
            new Probe("pcieLink", GpuDevice::pcieLink),
            new Probe("eccMode", GpuDevice::eccMode),
            new Probe("eccErrors(UNCORRECTED,VOLATILE)", d -> d.eccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE)),
            new Probe("eccErrors(CORRECTED,AGGREGATE)", d -> d.eccErrors(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE)),
            new Probe("retiredPages(DBE)", d -> d.retiredPages(RetirementCause.DOUBLE_BIT_ECC_ERROR).size()),
            new Probe("retiredPagesPending", GpuDevice::retiredPagesPending),
            new Probe("remappedRows", GpuDevice::remappedRows),
            new Probe("nvLinkCount", GpuDevice::nvLinkCount),
            new Probe("nvLinkActive(0)", d -> d.nvLinkActive(0)),
            new Probe("nvLinkRemotePciInfo(0)", d -> d.nvLinkRemotePciInfo(0).busId()),
            new Probe("nvLinkErrorCounter(0,CRC_FLIT)", d -> d.nvLinkErrorCounter(0, NvLinkErrorCounter.DL_CRC_FLIT)),
            new Probe("computeProcesses", GpuDevice::computeProcesses),
            new Probe("graphicsProcesses", GpuDevice::graphicsProcesses),
            new Probe("fieldValues(82,83,94,142-145)", d -> d.fieldValues(List.of(FieldRequest.of(FieldIds.MEMORY_TEMP),
                    FieldRequest.of(FieldIds.TOTAL_ENERGY_CONSUMPTION), FieldRequest.of(FieldIds.PCIE_REPLAY_COUNTER),
                    FieldRequest.of(FieldIds.REMAPPED_COR), FieldRequest.of(FieldIds.REMAPPED_UNC),
                    FieldRequest.of(FieldIds.REMAPPED_PENDING), FieldRequest.of(FieldIds.REMAPPED_FAILURE)))
                    .stream().map(f -> f.fieldId() + "=" + (f.ok() ? String.valueOf(f.asLong()) : "rc" + f.returnCode())).toList()),
            new Probe("recoveryAction", GpuDevice::recoveryAction),
            new Probe("migMode", GpuDevice::migMode),
            new Probe("isMigDeviceHandle", GpuDevice::isMigDeviceHandle),
            new Probe("maxMigDeviceCount", GpuDevice::maxMigDeviceCount),
            new Probe("gpuInstanceProfiles", d -> d.gpuInstanceProfiles().stream()
                    .map(p -> p.id() + ":" + p.shortName() + "/" + p.multiprocessorCount() + "SM/" + p.memorySizeMib() + "MiB")
                    .toList()),
            new Probe("gpuInstances", GpuDevice::gpuInstances),
            new Probe("migDevices", RealGpuCheck::migDevices),
            new Probe("gpmSupported", GpuDevice::gpmSupported),
            new Probe("gpmMetrics(1,2,5,10)", RealGpuCheck::gpm),
            new Probe("supportedEventTypes", d -> "0x" + Long.toHexString(d.supportedEventTypes())),
            new Probe("persistenceMode", GpuDevice::persistenceMode));

    private RealGpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i], args[i + 1]);
        }
        StringBuilder report = new StringBuilder();
        int status = run(opts.getOrDefault("--library", Nvml.DEFAULT_LIBRARY), path(opts.get("--layout")),
                path(opts.get("--nvidia-smi")), report);
        String out = opts.get("--out");
        if (out != null) {
            Files.writeString(Path.of(out), report);
        }
        System.out.print(report);
        System.exit(status);
    }

    private static Path path(String value) {
        return value == null ? null : Path.of(value);
    }

    /** Runs all three parts, appending Markdown to {@code report}; returns the exit status. */
    public static int run(String library, Path layoutFile, Path nvidiaSmiCsv, StringBuilder report) throws IOException {
        int status = 0;
        report.append("# gpu-agent real-GPU check\n\n").append("- date: ").append(Instant.now()).append('\n')
                .append("- library: ").append(library).append("\n\n## 1. Struct layouts\n\n");
        Map<String, LayoutCheck.Struct> ours = LayoutCheck.parse(LayoutCheck.render(Layouts.all()));
        if (layoutFile == null) {
            report.append("skipped: no compiler output given (the host has no nvml.h or no C compiler)\n");
        } else {
            Map<String, LayoutCheck.Struct> host = LayoutCheck.parse(Files.readString(layoutFile));
            List<String> problems = LayoutCheck.compare(host, ours);
            report.append(problems.isEmpty() ? "OK: " : "MISMATCH: ").append(ours.size() - LayoutCheck.missingFrom(host, ours).size())
                    .append(" structs compared with the host's nvml.h; not in that header: ")
                    .append(LayoutCheck.missingFrom(host, ours)).append('\n');
            problems.forEach(p -> report.append("- ").append(p).append('\n'));
            if (!problems.isEmpty()) {
                status = 1;
            }
        }
        Nvml nvml;
        try {
            nvml = Nvml.open(library);
        } catch (NvmlException e) {
            report.append("\n## 2. Bindings\n\nNVML could not be opened: ").append(e.getMessage()).append('\n');
            return 2;
        }
        try (nvml) {
            List<GpuDevice> gpus = nvml.devices();
            report.append("\n## 2. Bindings\n\n- driver ").append(nvml.driverVersion()).append(", NVML ")
                    .append(nvml.nvmlVersion()).append(", CUDA ").append(nvml.cudaDriverVersion()).append(", ")
                    .append(nvml.deviceCount()).append(" GPUs\n\n| binding |");
            gpus.forEach(g -> report.append(" GPU ").append(g.index()).append(" |"));
            report.append("\n|---|").append("---|".repeat(gpus.size())).append('\n');
            List<Probe> probes = new ArrayList<>(PROBES);
            if (!gpus.isEmpty()) {
                // Pairwise calls, each GPU against GPU 0 (which answers for itself too: INTERNAL, OK or not).
                GpuDevice first = gpus.getFirst();
                probes.add(new Probe("topologyCommonAncestor(GPU 0)", d -> d.topologyCommonAncestor(first)));
                probes.add(new Probe("p2pStatus(GPU 0, NVLINK)", d -> d.p2pStatus(first, P2pCapability.NVLINK)));
            }
            for (Probe probe : probes) {
                report.append("| ").append(probe.name()).append(" |");
                for (GpuDevice gpu : gpus) {
                    report.append(' ').append(cell(read(probe, gpu))).append(" |");
                }
                report.append('\n');
            }
            report.append("\n## 3. Against nvidia-smi\n\n");
            if (nvidiaSmiCsv == null) {
                report.append("skipped: nvidia-smi not available\n");
            } else {
                List<String> problems = compareWithNvidiaSmi(Files.readAllLines(nvidiaSmiCsv), gpus, report);
                if (!problems.isEmpty()) {
                    status = 1;
                }
            }
        }
        if (releaseAndReinit(library, report) != 0) {
            status = 1;
        }
        return status;
    }

    /**
     * Part 4: the agent's reset protocol up to the reset itself. Holds what the agent holds (handles, a GPM
     * sample, an event registration), lets go of it all and shuts NVML down, checks that this process then
     * holds no NVIDIA device file (the driver refuses a reset while any process does), lists the other
     * holders, and initialises again: same GPUs by UUID, events and GPM usable. Never resets a GPU.
     */
    static int releaseAndReinit(String library, StringBuilder report) {
        report.append("\n## 4. Release and re-initialisation (the reset protocol, without a reset)\n\n");
        DeviceHolders holders = DeviceHolders.system();
        List<String> problems = new ArrayList<>();
        List<String> uuids = new ArrayList<>();
        List<String> before;
        long t0 = System.nanoTime();
        try {
            Nvml nvml = Nvml.open(library);
            List<GpuDevice> gpus = nvml.devices();
            EventSet set = nvml.createEventSet();
            GpmSample sample = null;
            for (GpuDevice g : gpus) {
                uuids.add(g.uuid());
                report.append("- GPU ").append(g.index()).append(' ').append(g.uuid()).append(": persistence mode ")
                        .append(cell(read(new Probe("persistence", GpuDevice::persistenceMode), g)))
                        .append(", events registered ").append(cell(read(new Probe("events", d -> set.register(d, EventTypes.XID_CRITICAL_ERROR)), g)))
                        .append('\n');
            }
            if (!gpus.isEmpty()) {
                try {
                    sample = gpus.getFirst().gpmSample();
                } catch (NvmlException e) {
                    report.append("- GPM sample on GPU 0: ").append(e.result()).append('\n');
                }
            }
            before = holders.ofThisProcess();
            report.append("- NVIDIA device files this process held while initialised: ").append(before.isEmpty()
                    ? "none (the fake driver, or no GPU)" : String.join(", ", before)).append('\n');
            long c0 = System.nanoTime();
            nvml.close();
            set.close();          // after the shutdown: must be a no-op, not a call into the library
            if (sample != null) {
                sample.close();
            }
            report.append("- nvmlShutdown: ").append((System.nanoTime() - c0) / 1_000_000).append(" ms\n");
        } catch (RuntimeException e) {
            report.append("- could not hold and release NVML: ").append(e).append('\n');
            return 1;
        }
        List<String> after = holders.ofThisProcess();
        if (after.isEmpty()) {
            report.append("- OK: after nvmlShutdown this process holds no NVIDIA device file\n");
        } else {
            problems.add("after nvmlShutdown this process still holds " + after + ": a reset would be refused");
        }
        List<DeviceHolders.Holder> others = holders.scan();
        report.append("- other processes holding NVIDIA devices (a reset is refused while any do; as root all are seen): ")
                .append(DeviceHolders.describe(others)).append('\n');
        long r0 = System.nanoTime();
        try (Nvml again = Nvml.open(library)) {
            report.append("- nvmlInit again: ").append((System.nanoTime() - r0) / 1_000_000).append(" ms\n");
            List<String> now = new ArrayList<>();
            for (GpuDevice g : again.devices()) {
                now.add(g.uuid());
                if (again.deviceByUuid(g.uuid()).index() != g.index()) {
                    problems.add("GPU " + g.uuid() + ": the handle by UUID and by index disagree after re-init");
                }
            }
            if (!now.equals(uuids)) {
                problems.add("the GPUs changed across re-init: " + uuids + " -> " + now);
            }
            try (EventSet set = again.createEventSet()) {
                for (GpuDevice g : again.devices()) {
                    set.register(g, EventTypes.XID_CRITICAL_ERROR);
                }
                set.await(10);
            }
        } catch (RuntimeException e) {
            problems.add("re-initialisation failed: " + e);
        }
        report.append("- whole cycle: ").append((System.nanoTime() - t0) / 1_000_000).append(" ms\n");
        problems.forEach(p -> report.append("- PROBLEM: ").append(p).append('\n'));
        if (problems.isEmpty()) {
            report.append("- OK: the same GPUs by index and UUID after re-init; events register and wait\n");
        }
        return problems.isEmpty() ? 0 : 1;
    }

    private static Object read(Probe probe, GpuDevice gpu) {
        try {
            return probe.read().apply(gpu);
        } catch (NvmlException e) {
            return e.result() + "(" + e.code() + ")";
        } catch (RuntimeException e) {
            return "ERROR " + e;
        }
    }

    private static String cell(Object value) {
        return String.valueOf(value).replace("|", "/");
    }

    /** Each MIG device's identity and readings, so a MIG host's report shows what the driver really answers. */
    private static Object migDevices(GpuDevice gpu) {
        List<String> devices = new ArrayList<>();
        for (MigDevice mig : gpu.migDevices()) {
            devices.add(mig.slot() + ":" + mig.uuid() + " gi=" + mig.gpuInstanceId() + " ci=" + mig.computeInstanceId()
                    + " " + mig.attributes() + " " + mig.memoryInfo() + " processes=" + mig.computeProcesses().size());
        }
        return devices;
    }

    private static Object gpm(GpuDevice gpu) {
        if (!gpu.gpmSupported()) {
            return "not supported";
        }
        try (GpmSample first = gpu.gpmSample()) {
            Thread.sleep(150);
            try (GpmSample second = gpu.gpmSample()) {
                return gpu.gpmMetrics(first, second, GpmMetricIds.GRAPHICS_UTIL, GpmMetricIds.SM_UTIL,
                        GpmMetricIds.ANY_TENSOR_UTIL, GpmMetricIds.DRAM_BW_UTIL);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Compares {@code nvidia-smi --query-gpu=NVIDIA_SMI_QUERY --format=csv,noheader,nounits} lines with our
     * readings. Identity values must match exactly; live readings within a tolerance (they are read at
     * different instants). Appends a table to {@code report}; returns the mismatches.
     */
    public static List<String> compareWithNvidiaSmi(List<String> csv, List<GpuDevice> gpus, StringBuilder report) {
        List<String> problems = new ArrayList<>();
        report.append("| GPU | field | nvidia-smi | gpu-agent | verdict |\n|---|---|---|---|---|\n");
        for (String line : csv) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",\\s*");
            int index = Integer.parseInt(f[0].trim());
            GpuDevice gpu = gpus.stream().filter(g -> g.index() == index).findFirst().orElse(null);
            if (gpu == null) {
                problems.add("GPU " + index + " is listed by nvidia-smi but not opened by the bindings");
                continue;
            }
            check(report, problems, index, "uuid", f[1], () -> gpu.uuid(), 0);
            check(report, problems, index, "name", f[2], () -> gpu.name(), 0);
            check(report, problems, index, "pci.bus_id", f[3], () -> gpu.pciInfo().busId(), 0);
            check(report, problems, index, "memory.total [MiB]", f[4], () -> gpu.memoryInfo().total() >> 20, 0);
            check(report, problems, index, "memory.used [MiB]", f[5], () -> gpu.memoryInfo().used() >> 20, -512);
            check(report, problems, index, "utilization.gpu [%]", f[6], () -> gpu.utilizationRates().gpu(), -100);
            check(report, problems, index, "temperature.gpu [C]", f[7], () -> gpu.temperature(), -5);
            check(report, problems, index, "power.draw [W]", f[8], () -> gpu.powerUsageMw() / 1000.0, -50);
            check(report, problems, index, "power.limit [W]", f[9], () -> gpu.powerLimitMw() / 1000.0, -1);
            check(report, problems, index, "clocks.sm [MHz]", f[10], () -> gpu.clockMhz(ClockType.SM), -300);
            check(report, problems, index, "clocks.max.sm [MHz]", f[11], () -> gpu.maxClockMhz(ClockType.SM), 0);
            check(report, problems, index, "pstate", f[12], () -> "P" + gpu.performanceState(), 0);
            check(report, problems, index, "ecc.errors.uncorrected.volatile.total", f[13],
                    () -> gpu.eccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE), 0);
        }
        problems.forEach(p -> report.append("\n- ").append(p));
        report.append(problems.isEmpty() ? "\nOK: identity values match nvidia-smi\n" : "\n");
        return problems;
    }

    /**
     * {@code tolerance} 0: must be equal (identity). Negative: a live reading; differences up to its
     * magnitude are expected and only reported, never failed.
     */
    private static void check(StringBuilder report, List<String> problems, int gpu, String field, String smi,
                              java.util.function.Supplier<Object> ours, double tolerance) {
        String value;
        try {
            value = String.valueOf(ours.get());
        } catch (NvmlException e) {
            value = e.result().name();
        }
        String verdict;
        String theirs = smi.trim();
        if (theirs.startsWith("[N/A]") || theirs.startsWith("[Not Supported]")) {
            verdict = "n/a in nvidia-smi";
        } else if (tolerance == 0) {
            boolean equal = theirs.equalsIgnoreCase(value) || numericallyEqual(theirs, value, 0.5);
            verdict = equal ? "match" : "MISMATCH";
            if (!equal) {
                problems.add("GPU " + gpu + " " + field + ": nvidia-smi says " + theirs + ", bindings say " + value);
            }
        } else {
            verdict = numericallyEqual(theirs, value, -tolerance) ? "close" : "differs (live value)";
        }
        report.append("| ").append(gpu).append(" | ").append(field).append(" | ").append(theirs).append(" | ")
                .append(value).append(" | ").append(verdict).append(" |\n");
    }

    private static boolean numericallyEqual(String a, String b, double tolerance) {
        try {
            return Math.abs(Double.parseDouble(a) - Double.parseDouble(b)) <= tolerance;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
