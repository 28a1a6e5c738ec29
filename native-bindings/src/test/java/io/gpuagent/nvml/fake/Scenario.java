package io.gpuagent.nvml.fake;

import java.util.ArrayList;
import java.util.List;

/**
 * A scenario file for the fake NVML driver, built with typed calls instead of hand-written text:
 * {@code Scenario.gpus(8).xid(3, 79).lost(3)}. The keys are the fake's (native-bindings/README.md, "Scenario
 * file"); {@link #line} takes any key the builder has no method for. Each call appends a line, and a later
 * line for the same key wins, as in the file.
 */
public final class Scenario {
    private final List<String> lines = new ArrayList<>();

    private Scenario() {
    }

    /** The fake's defaults: 8 idle H100s in a DGX H100 layout. */
    public static Scenario defaults() {
        return new Scenario();
    }

    public static Scenario gpus(int count) {
        return new Scenario().line("gpus = " + count);
    }

    /** A copy to extend, so that one base scenario serves several tests. */
    public Scenario and() {
        Scenario copy = new Scenario();
        copy.lines.addAll(lines);
        return copy;
    }

    /** Any {@code key = value} line, or several lines of scenario text. */
    public Scenario line(String text) {
        text.lines().filter(l -> !l.isBlank()).forEach(lines::add);
        return this;
    }

    /** A key for every GPU ({@code gpu.*.key}). */
    public Scenario all(String key, Object value) {
        return line("gpu.*." + key + " = " + value);
    }

    /** A per-GPU key ({@code gpu.<i>.key}). */
    public Scenario gpu(int gpu, String key, Object value) {
        return line("gpu." + gpu + "." + key + " = " + value);
    }

    public Scenario driverVersion(String version) {
        return line("driver_version = " + version);
    }

    public Scenario temp(int gpu, int celsius) {
        return gpu(gpu, "temp", celsius);
    }

    public Scenario lost(int gpu) {
        return gpu(gpu, "lost", 1);
    }

    public Scenario unsupported(int gpu, String nvmlFunction) {
        return gpu(gpu, "unsupported." + nvmlFunction, 1);
    }

    /** {@code nvmlFunction} answers {@code nvmlReturn} on this GPU. */
    public Scenario error(int gpu, String nvmlFunction, int nvmlReturn) {
        return gpu(gpu, "error." + nvmlFunction, nvmlReturn);
    }

    /** {@code nvmlFunction} takes {@code ms} on this GPU (a hang, as far as a deadline is concerned). */
    public Scenario latency(int gpu, String nvmlFunction, long ms) {
        return gpu(gpu, "latency_ms." + nvmlFunction, ms);
    }

    public Scenario unsupportedField(int gpu, int fieldId) {
        return gpu(gpu, "unsupported_field." + fieldId, 1);
    }

    /** Field {@code fieldId} answers {@code nvmlReturn} in its entry of {@code nvmlDeviceGetFieldValues}. */
    public Scenario fieldError(int gpu, int fieldId, int nvmlReturn) {
        return gpu(gpu, "field_error." + fieldId, nvmlReturn);
    }

    /** {@code pid:usedMib} pairs of compute processes on this GPU. */
    public Scenario computeProcesses(int gpu, String pidsAndMib) {
        return gpu(gpu, "compute_processes", pidsAndMib);
    }

    /** An XID event on {@code gpu}, numbered after every event this JVM has written. */
    public Scenario xid(int gpu, int code) {
        return event(gpu, "xid", code);
    }

    /** An XID the driver attributes to GPU instance {@code gpuInstance} (compute instance unnamed: 0xFFFFFFFF). */
    public Scenario xid(int gpu, int code, int gpuInstance) {
        return line("event." + FakeNvml.nextEventNumber() + " = " + gpu + " xid " + code + " gi=" + gpuInstance);
    }

    /** An XID the driver attributes to one compute instance of one GPU instance. */
    public Scenario xid(int gpu, int code, int gpuInstance, int computeInstance) {
        return line("event." + FakeNvml.nextEventNumber() + " = " + gpu + " xid " + code + " gi=" + gpuInstance
                + " ci=" + computeInstance);
    }

    // ---- MIG (native-bindings/README.md, "MIG") ---------------------------------------------------------

    /** {@code mig_mode} (current) and {@code mig_pending} of one GPU. */
    public Scenario migMode(int gpu, boolean current, boolean pending) {
        return gpu(gpu, "mig_mode", current ? 1 : 0).gpu(gpu, "mig_pending", pending ? 1 : 0);
    }

    /** Which profile table the GPU has ({@code a100-40gb}, {@code a100-80gb}, {@code h100-80gb}, {@code h200-141gb}, {@code none}). */
    public Scenario migProfiles(int gpu, String table) {
        return gpu(gpu, "mig_profiles", table);
    }

    /**
     * GPU instance {@code id} of profile {@code profile} (a short name, {@code 1g.10gb}), placed where the driver's
     * numbering puts that id (7-13: one memory slice at 0-6; 3-6: two at 0/2/4/6; 1-2: four at 0/4; 0: all eight).
     */
    public Scenario migInstance(int gpu, int id, String profile) {
        return gpu(gpu, "mig." + id + ".profile", profile);
    }

    /** GPU instance {@code id} at memory slice {@code start}, for an id the driver's numbering does not place. */
    public Scenario migPlacement(int gpu, int id, int start) {
        return gpu(gpu, "mig." + id + ".placement", start);
    }

    /** The compute instances of GPU instance {@code id}, by compute slices (default: one filling it). */
    public Scenario migComputeInstances(int gpu, int id, int... slices) {
        StringBuilder list = new StringBuilder();
        for (int s : slices) {
            list.append(list.isEmpty() ? "" : ",").append(s);
        }
        return gpu(gpu, "mig." + id + ".compute_instances", list);
    }

    /** The UUIDs of GPU instance {@code id}'s MIG devices, one per compute instance (default: derived, unique). */
    public Scenario migUuid(int gpu, int id, String... uuids) {
        return gpu(gpu, "mig." + id + ".uuid", String.join(",", uuids));
    }

    public Scenario migMemoryUsed(int gpu, int id, long mib) {
        return gpu(gpu, "mig." + id + ".memory_used_mib", mib);
    }

    /** {@code pid:usedMib[:computeInstance]} pairs of compute processes in GPU instance {@code id}. */
    public Scenario migComputeProcesses(int gpu, int id, String pidsAndMib) {
        return gpu(gpu, "mig." + id + ".compute_processes", pidsAndMib);
    }

    /** The value {@code nvmlGpmMetricsGet} reports for {@code metricId} between two samples of GPU instance {@code id}. */
    public Scenario migGpm(int gpu, int id, int metricId, double value) {
        return gpu(gpu, "mig." + id + ".gpm." + metricId, value);
    }

    /** An event of NVML type {@code type} ({@code EventTypes.name}) with its data. */
    public Scenario event(int gpu, String type, long data) {
        return line("event." + FakeNvml.nextEventNumber() + " = " + gpu + " " + type + " " + data);
    }

    /** The file's text. */
    public String text() {
        return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
    }

    @Override
    public String toString() {
        return text();
    }
}
