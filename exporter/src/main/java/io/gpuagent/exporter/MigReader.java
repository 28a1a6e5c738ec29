package io.gpuagent.exporter;

import io.gpuagent.nvml.GpmMetricValue;
import io.gpuagent.nvml.GpmSample;
import io.gpuagent.nvml.GpuInstance;
import io.gpuagent.nvml.GpuInstanceProfile;
import io.gpuagent.nvml.MemoryInfo;
import io.gpuagent.nvml.MigAttributes;
import io.gpuagent.nvml.MigDevice;
import io.gpuagent.nvml.MigMode;
import io.gpuagent.nvml.ProcessInfo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MIG (A100, H100, H200): the mode on every read, so a change waiting for a GPU reset shows within one interval;
 * for a GPU in MIG mode, its MIG devices and what MIG partitions: memory of each GPU instance, the compute processes
 * in each MIG device, and GPM activity per GPU instance ({@code nvmlGpmMigSampleGet}). Runs after the whole-GPU
 * readers: the parent's process list gains the processes read through the MIG handles, which an agent without root
 * may be the only way to see.
 *
 * <p>MIG handles die with their instance, so they are enumerated afresh on every read and never kept (a handle of a
 * destroyed instance would be a use after free on a real driver). The identity (profile, placement, SMs) is re-read
 * when the set of MIG UUIDs changes (an operator created or destroyed instances: {@code nvidia-mig-parted}) and every
 * {@link SamplerSettings#staticEvery()} reads; otherwise carried over. GPM samples are kept per MIG UUID, not per GPU
 * instance id: a destroyed instance's id comes back on the next one created, and an interval across the two would
 * mix their counters.
 */
final class MigReader implements GpuReader {
    /** GPM readings that make sense per GPU instance (NVLink and PCIe bytes are the parent's). */
    private static final List<Reading> INSTANCE_GPM = List.of(Reading.GR_ENGINE_ACTIVE, Reading.SM_ACTIVE,
            Reading.SM_OCCUPANCY, Reading.PIPE_TENSOR_ACTIVE, Reading.PIPE_TENSOR_DFMA_ACTIVE,
            Reading.PIPE_TENSOR_HMMA_ACTIVE, Reading.PIPE_TENSOR_IMMA_ACTIVE, Reading.PIPE_INT_ACTIVE,
            Reading.DRAM_ACTIVE, Reading.PIPE_FP64_ACTIVE, Reading.PIPE_FP32_ACTIVE, Reading.PIPE_FP16_ACTIVE);

    @Override
    public void read(ReadContext ctx) {
        if (!ctx.wantsAny(Reading.MIG_MODE, Reading.MIG_MODE_PENDING)) {
            return;
        }
        GpuState st = ctx.state;
        MigMode mode = ctx.call("nvmlDeviceGetMigMode", ctx.device::migMode, Reading.MIG_MODE, Reading.MIG_MODE_PENDING);
        if (mode == null) {
            if (ctx.lastNotSupported) {
                st.forgetMig();   // a GPU without MIG
            } else {
                ctx.migDevices = st.lastMig;   // one failed call: carry the devices over, as other readings are not
            }
            return;
        }
        ctx.set(Reading.MIG_MODE, mode.current() ? 1 : 0);
        ctx.set(Reading.MIG_MODE_PENDING, mode.pending() ? 1 : 0);
        if (!mode.current()) {
            st.forgetMig();
            return;
        }
        List<MigDevice> devices = ctx.call("nvmlDeviceGetMigDeviceHandleByIndex", ctx.device::migDevices);
        if (devices == null) {
            ctx.migDevices = st.lastMig;
            return;
        }
        devices = new ArrayList<>(devices);
        devices.sort(Comparator.comparingInt(MigDevice::gpuInstanceId).thenComparingInt(MigDevice::computeInstanceId));
        Set<String> uuids = new HashSet<>();
        for (MigDevice d : devices) {
            uuids.add(d.uuid());
        }
        if (ctx.staticDue || !uuids.equals(st.migInfos.keySet())) {
            readIdentities(ctx, devices);
        }
        st.closeMigGpmExcept(uuids);
        List<Reading> gpm = wantedGpm(ctx);
        List<MigSample> samples = new ArrayList<>(devices.size());
        Map<Integer, ProcessInfo> allProcesses = new LinkedHashMap<>();
        for (ProcessInfo p : ctx.processes) {
            allProcesses.put(p.pid(), p);
        }
        for (MigDevice d : devices) {
            MigInstance info = st.migInfos.get(d.uuid());
            if (info == null) {
                continue;   // its identity could not be read: not served until it can
            }
            MigSample.Builder b = MigSample.builder(info);
            memory(ctx, d, b);
            if (ctx.requested(Reading.PROCESSES)) {
                List<ProcessInfo> procs = ctx.call("nvmlDeviceGetComputeRunningProcesses_v3", d::computeProcesses);
                if (procs != null) {
                    b.processes(procs);
                    b.set(Reading.PROCESSES, procs.size());
                    for (ProcessInfo p : procs) {
                        allProcesses.putIfAbsent(p.pid(), p);
                    }
                }
            }
            if (!gpm.isEmpty()) {
                gpm(ctx, d, gpm, b);
            }
            samples.add(b.build());
        }
        if (ctx.requested(Reading.PROCESSES) && allProcesses.size() > ctx.processes.size()) {
            ctx.processes = List.copyOf(allProcesses.values());
            ctx.set(Reading.PROCESSES, ctx.processes.size());
        }
        ctx.migDevices = List.copyOf(samples);
        st.lastMig = ctx.migDevices;
    }

    /** Profile, placement and SMs of every MIG device; a device whose identity fails is left out this time. */
    private static void readIdentities(ReadContext ctx, List<MigDevice> devices) {
        GpuState st = ctx.state;
        List<GpuInstanceProfile> profiles = ctx.call("nvmlDeviceGetGpuInstanceProfileInfoV",
                ctx.device::gpuInstanceProfiles);
        List<GpuInstance> instances = ctx.call("nvmlDeviceGetGpuInstances", ctx.device::gpuInstances);
        Map<Integer, GpuInstanceProfile> profileById = new HashMap<>();
        if (profiles != null) {
            for (GpuInstanceProfile p : profiles) {
                profileById.put(p.id(), p);
            }
        }
        Map<Integer, GpuInstance> instanceById = new HashMap<>();
        if (instances != null) {
            for (GpuInstance gi : instances) {
                instanceById.put(gi.id(), gi);
            }
        }
        Map<String, MigInstance> infos = new HashMap<>();
        for (MigDevice d : devices) {
            GpuInstance gi = instanceById.get(d.gpuInstanceId());
            GpuInstanceProfile profile = gi == null ? null : profileById.get(gi.profileId());
            if (profile == null) {
                MigInstance before = st.migInfos.get(d.uuid());
                if (before != null) {
                    infos.put(d.uuid(), before);
                }
                continue;
            }
            MigAttributes attrs = ctx.call("nvmlDeviceGetAttributes_v2", d::attributes);
            infos.put(d.uuid(), new MigInstance(st.index, ctx.state.info == null ? "" : ctx.state.info.uuid(), d.uuid(),
                    d.gpuInstanceId(), d.computeInstanceId(), profile.shortName(), profile.id(), profile.sliceCount(),
                    gi.placementStart(), attrs == null ? -1 : attrs.multiprocessorCount(),
                    attrs != null ? attrs.memorySizeMib() : profile.memorySizeMib()));
        }
        st.migInfos = infos;
    }

    private static void memory(ReadContext ctx, MigDevice d, MigSample.Builder b) {
        if (!ctx.requested(Reading.FB_TOTAL_MIB) && !ctx.requested(Reading.FB_USED_MIB)
                && !ctx.requested(Reading.FB_FREE_MIB)) {
            return;
        }
        MemoryInfo m = ctx.call("nvmlDeviceGetMemoryInfo_v2", d::memoryInfo);
        if (m != null) {
            MemoryReader.fill(m, b::set);
        }
    }

    private static List<Reading> wantedGpm(ReadContext ctx) {
        if (!Boolean.TRUE.equals(ctx.state.gpmSupported) || ctx.state.gpmInUseSince != null) {
            return List.of();   // GPM is judged (support, another profiler holding it) by the GPU's GpmReader
        }
        List<Reading> wanted = new ArrayList<>();
        for (Reading r : INSTANCE_GPM) {
            if (ctx.requested(r)) {
                wanted.add(r);
            }
        }
        return wanted;
    }

    /** One GPM sample per GPU instance and read; the metrics between it and the previous one of the same MIG UUID. */
    private static void gpm(ReadContext ctx, MigDevice d, List<Reading> wanted, MigSample.Builder b) {
        GpuState st = ctx.state;
        GpmSample current = ctx.call("nvmlGpmMigSampleGet", () -> ctx.device.gpmMigSample(d.gpuInstanceId()));
        if (current == null) {
            return;
        }
        long now = System.nanoTime();
        GpuState.MigGpm previous = st.migGpm.get(d.uuid());
        if (previous == null) {
            st.migGpm.put(d.uuid(), new GpuState.MigGpm(current, now));
            return;
        }
        if (now - previous.nanos() < GpmReader.MIN_INTERVAL_NANOS) {
            current.close();
            return;
        }
        try {
            int[] ids = new int[wanted.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = ((Reading.Source.Gpm) wanted.get(i).source()).metricId();
            }
            List<GpmMetricValue> values = ctx.call("nvmlGpmMetricsGet",
                    () -> ctx.device.gpmMetrics(previous.sample(), current, ids));
            if (values != null) {
                for (GpmMetricValue v : values) {
                    Reading r = GpmReader.forMetric(v.metricId(), wanted);
                    if (r != null && v.ok()) {
                        b.set(r, v.value() * ((Reading.Source.Gpm) r.source()).scale());
                    }
                }
            }
        } finally {
            previous.sample().close();
            st.migGpm.put(d.uuid(), new GpuState.MigGpm(current, now));
        }
    }
}
