package io.gpuagent.exporter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Writes the GPU family (dcgm-exporter's {@code DCGM_FI_*} series) of a {@link Snapshot} in the Prometheus
 * text exposition format 0.0.4.
 *
 * <p>Why not Micrometer meters: dcgm-exporter's counters ({@code DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION},
 * {@code DCGM_FI_DEV_PCIE_REPLAY_COUNTER}, ...) are typed {@code counter} but have no {@code _total} suffix,
 * and the Prometheus clients under Micrometer (simpleclient and client_java 1.x alike) always add it to a
 * counter. Renaming would break every dashboard and alert written for dcgm-exporter, and typing them gauge
 * would lie to {@code rate()} users and promtool. So the family is rendered here from the catalog, with
 * exact names and types, and the agent serves it before its registry's {@code gpu_agent_*} output.
 *
 * <p>Scrapes must be cheap (p99 <= 1 ms with 8 GPUs): the bytes are rendered once per snapshot (and
 * {@link GpuDecorator#version()}) and cached; every scrape of the same snapshot gets the same array.
 * Register {@code sampler.onSnapshot(writer::render)} to render on the sampler thread instead of the first
 * scrape.
 *
 * <p>Series: one per GPU and metric with a value. LOST GPUs and GPUs never identified have none; STALE
 * GPUs keep their last values (their age is in {@code gpu_agent_gpu_reading_age_seconds}). Labels, in
 * this order: {@code gpu, UUID, pci_bus_id, device, modelName, Hostname} (or {@code hostname}), the driver
 * version ({@code DCGM_FI_DRIVER_VERSION}, or {@code DCGM_FI_SYSTEM_DRIVER_VERSION} when the metrics' label
 * row of field 1 says so), any label fields the counters file selected ({@code DCGM_FI_DEV_SERIAL},
 * {@code DCGM_FI_DEV_VBIOS_VERSION}), the decorator's extra labels (e.g. {@code hpc_job}), and on
 * {@code DCGM_FI_DEV_XID_ERRORS} {@code err_code}, on {@code DCGM_EXP_XID_ERRORS_TOTAL} {@code xid}, on
 * {@code DCGM_EXP_CLOCK_EVENTS_TOTAL} {@code clock_event}. Values are written in the unit the name promises
 * ({@link MetricDef#scale()}). A metric no GPU has a value for is left out entirely.
 *
 * <p>MIG, as dcgm-exporter does it (its default "flex" mode): a GPU with MIG devices
 * ({@link GpuSample#migDevices()}) has one series set per GPU instance instead of its own, labelled like the GPU
 * plus {@code GPU_I_PROFILE} and {@code GPU_I_ID} after {@code modelName}; a GPU in MIG mode without GPU
 * instances keeps its GPU series. Each metric's {@link MigScope} says whether an instance's series carries the
 * parent's value (physical readings), its own ({@link MigSample}: memory, GPM activity, XIDs) or none. A GPU
 * instance split into several compute instances still has one series set: its values are those of its first MIG
 * device (memory and GPM are per GPU instance), its extra labels those of all its MIG devices (a label whose
 * values differ lists them, comma-separated, in compute instance order), its XID the first MIG device's that
 * is its own (differs from the GPU's), else the GPU's.
 */
public final class GpuMetricsWriter {
    /** dcgm-exporter's host label before 4.x, the default. */
    public static final String HOSTNAME_LABEL = "Hostname";
    /** dcgm-exporter 4.x's host label. */
    public static final String HOSTNAME_LABEL_LOWER = "hostname";
    /** The driver-version label before dcgm-exporter 4.9, used when the metrics name none. */
    public static final String DRIVER_VERSION_LABEL = "DCGM_FI_DRIVER_VERSION";

    private final List<MetricDef> series;
    private final List<MetricDef> labelFields;
    /** The driver-version label's name(s): the counters file's label row(s) of field 1, else the legacy name. */
    private final List<String> driverLabels;
    private final String hostnameLabel;
    private final String hostname;
    private final GpuDecorator decorator;
    private volatile Cached cache;
    // renderUncached's working state, reused from snapshot to snapshot (guarded by this)
    private StringBuilder text = new StringBuilder(16 * 1024);
    private DevicePrefixes[] prefixes = new DevicePrefixes[0];
    private long prefixVersion = Long.MIN_VALUE;
    private String prefixDriver;
    /** {@link MigScope} of each of {@link #series}, by position. */
    private final MigScope[] scopes;

    /**
     * One GPU's label prefixes (each without its closing brace): the GPU's own, and one per GPU instance while
     * it has MIG devices. Kept while the GPU's identity, its MIG devices' identities, the driver version and the
     * decorator's version stand, so that a steady sweep builds no label strings.
     */
    private static final class DevicePrefixes {
        GpuInfo info;
        String gpu;
        /** The MIG devices the instance prefixes were built for, in the snapshot's order. */
        List<MigInstance> migs = List.of();
        /** Per GPU instance: its prefix, and the index in {@link GpuSample#migDevices()} of its first and next-after-last MIG device. */
        String[] instances = new String[0];
        int[] instanceFrom = new int[0];
        int[] instanceTo = new int[0];
        int instanceCount;
    }

    private record Cached(Snapshot snapshot, long version, byte[] bytes) {
    }

    /**
     * @param metrics       what to render (from {@link CountersFile#metrics()} or {@link MetricCatalog#defaultSet()})
     * @param hostnameLabel {@link #HOSTNAME_LABEL} or {@link #HOSTNAME_LABEL_LOWER}
     * @param hostname      the host label's value ({@link SamplerSettings#hostname()})
     * @param decorator     extra labels and last XIDs from the agent; {@link GpuDecorator#NONE} for none
     */
    public GpuMetricsWriter(List<MetricDef> metrics, String hostnameLabel, String hostname, GpuDecorator decorator) {
        Objects.requireNonNull(metrics, "metrics");
        if (!HOSTNAME_LABEL.equals(hostnameLabel) && !HOSTNAME_LABEL_LOWER.equals(hostnameLabel)) {
            throw new IllegalArgumentException("host label must be Hostname or hostname, not " + hostnameLabel);
        }
        List<MetricDef> s = new ArrayList<>();
        List<MetricDef> l = new ArrayList<>();
        List<String> driver = new ArrayList<>();
        for (MetricDef m : metrics) {
            if (m.type() == MetricType.LABEL) {
                if (m.dcgmFieldId() == MetricCatalog.FIELD_DRIVER_VERSION) {
                    driver.add(m.name()); // the driver version is always there, in its fixed place
                } else {
                    l.add(m);
                }
            } else if (m.source() != null || m.isXid() || m.isXidTotal() || m.isClockEventsTotal() || m.isDcgmField()
                    || m.isGpuHealthStatus()) {
                s.add(m);
            }
        }
        this.series = List.copyOf(s);
        this.scopes = series.stream().map(MigScope::of).toArray(MigScope[]::new);
        this.labelFields = List.copyOf(l);
        this.driverLabels = driver.isEmpty() ? List.of(DRIVER_VERSION_LABEL) : List.copyOf(driver);
        this.hostnameLabel = hostnameLabel;
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.decorator = Objects.requireNonNull(decorator, "decorator");
    }

    /** The metrics rendered as series (label fields excluded). */
    public List<MetricDef> metrics() {
        return series;
    }

    /** The exposition text of {@code snapshot}'s GPU family, UTF-8. Cached: callers must not modify the array. */
    public byte[] render(Snapshot snapshot) {
        long version = decorator.version();
        Cached c = cache;
        if (c != null && c.snapshot == snapshot && c.version == version) {
            return c.bytes;
        }
        byte[] bytes = renderUncached(snapshot, version);
        cache = new Cached(snapshot, version, bytes);
        return bytes;
    }

    /** Writes {@link #render(Snapshot)} to {@code out}. */
    public void write(Snapshot snapshot, OutputStream out) throws IOException {
        out.write(render(snapshot));
    }

    /** The same text as a String (tests, tools). */
    public String renderText(Snapshot snapshot) {
        return new String(render(snapshot), StandardCharsets.UTF_8);
    }

    /**
     * Renders into {@link #text}, reused from sweep to sweep, and returns the one array a snapshot needs.
     * Label prefixes are kept per GPU and GPU instance while its identity, the driver version and the
     * decorator's version stand: a steady sweep builds no label strings. Synchronized: the sampler thread
     * renders, and a scrape renders too when the decorator changed since.
     */
    private synchronized byte[] renderUncached(Snapshot snapshot, long version) {
        List<GpuSample> gpus = snapshot.gpus();
        if (prefixes.length < gpus.size()) {
            prefixes = Arrays.copyOf(prefixes, gpus.size());
        }
        boolean relabelAll = version != prefixVersion || !snapshot.driverVersion().equals(prefixDriver);
        for (int i = 0; i < gpus.size(); i++) {
            if (prefixes[i] == null) {
                prefixes[i] = new DevicePrefixes();
            }
            relabel(prefixes[i], gpus.get(i), snapshot.driverVersion(), relabelAll);
        }
        prefixVersion = version;
        prefixDriver = snapshot.driverVersion();
        StringBuilder sb = text;
        sb.setLength(0);
        for (int k = 0; k < series.size(); k++) {
            MetricDef m = series.get(k);
            int familyStart = sb.length();
            boolean any = false;
            sb.append("# HELP ").append(m.name()).append(' ');
            escapeHelp(sb, m.help());
            sb.append("\n# TYPE ").append(m.name()).append(' ').append(m.type().text()).append('\n');
            for (int i = 0; i < gpus.size(); i++) {
                GpuSample g = gpus.get(i);
                if (g.status() == GpuStatus.LOST || !g.info().known()) {
                    continue;
                }
                DevicePrefixes p = prefixes[i];
                if (p.instanceCount == 0) {
                    any |= appendSeries(sb, m, g, p.gpu);
                } else if (scopes[k] != MigScope.ABSENT) {
                    for (int j = 0; j < p.instanceCount; j++) {
                        any |= appendInstanceSeries(sb, m, scopes[k], g, p.instanceFrom[j], p.instanceTo[j],
                                p.instances[j]);
                    }
                }
            }
            if (!any) {
                sb.setLength(familyStart);
            }
        }
        if (sb.capacity() > 4 * sb.length() + 64 * 1024) {
            text = new StringBuilder(sb.length() + 1024);   // do not keep the peak of a host that shrank
        }
        return utf8(sb);
    }

    /** {@code m}'s series of a whole GPU; false when it has no value. */
    private boolean appendSeries(StringBuilder sb, MetricDef m, GpuSample g, String prefix) {
        if (m.isXid()) {
            appendXid(sb, m, prefix, decorator.lastXid(g.info()));
            return true;
        }
        if (m.isXidTotal()) {
            return appendXidTotals(sb, m.name(), prefix, decorator.xidCounts(g.info()));
        }
        if (m.isClockEventsTotal()) {
            return appendClockEventTotals(sb, m.name(), prefix, g);
        }
        if (m.isDcgmField()) {
            return appendValue(sb, m, prefix, g.dcgmField(m.dcgmFieldId()));
        }
        if (m.isGpuHealthStatus()) {
            return appendHealthStatus(sb, m.name(), prefix, g.dcgm());
        }
        return appendValue(sb, m, prefix, g.raw(m.source()));
    }

    /**
     * {@code m}'s series of one GPU instance of {@code g}: MIG devices {@code from} (its first) to {@code to}
     * (exclusive) of {@link GpuSample#migDevices()}; false when it has no value.
     */
    private boolean appendInstanceSeries(StringBuilder sb, MetricDef m, MigScope scope, GpuSample g, int from, int to,
                                         String prefix) {
        List<MigSample> migs = g.migDevices();
        if (m.isXid()) {
            appendXid(sb, m, prefix, instanceXid(g.info(), migs, from, to));
            return true;
        }
        if (m.isXidTotal() || m.isClockEventsTotal() || m.isDcgmField() || m.isGpuHealthStatus()) {
            return appendSeries(sb, m, g, prefix);   // the GPU's counts, repeated on each instance (MigScope.PARENT)
        }
        double v = scope == MigScope.INSTANCE ? migs.get(from).raw(m.source()) : g.raw(m.source());
        return appendValue(sb, m, prefix, v);
    }

    /** The XID of a GPU instance: the first of its MIG devices' answers that is its own (not the GPU's), else the GPU's. */
    private OptionalInt instanceXid(GpuInfo gpu, List<MigSample> migs, int from, int to) {
        OptionalInt first = decorator.lastXid(gpu, migs.get(from).info());
        if (to - from == 1) {
            return first;
        }
        OptionalInt whole = decorator.lastXid(gpu);
        for (int c = from; c < to; c++) {
            OptionalInt xid = c == from ? first : decorator.lastXid(gpu, migs.get(c).info());
            if (xid.isPresent() && !xid.equals(whole)) {
                return xid;
            }
        }
        return whole;
    }

    /** The health watches dcgm-exporter reports, in its order (ALL: GPU-wide XIDs DCGM files under no subsystem). */
    private static final List<String> HEALTH_WATCHES = List.of("PCIE", "NVLINK", "PMU", "MCU", "MEM", "SM", "INFOROM",
            "THERMAL", "POWER", "DRIVER", "ALL");

    /**
     * DCGM_EXP_GPU_HEALTH_STATUS: one series per health watch, the watch's incident (the last one DCGM listed for it)
     * or PASS with DCGM_FR_OK; none while DCGM does not answer.
     */
    private static boolean appendHealthStatus(StringBuilder sb, String name, String prefix, DcgmPart dcgm) {
        if (!dcgm.connected()) {
            return false;
        }
        for (String watch : HEALTH_WATCHES) {
            DcgmIncident found = null;
            for (DcgmIncident i : dcgm.incidents()) {
                if (i.watch().equals(watch)) {
                    found = i;
                }
            }
            String code = found == null ? "DCGM_FR_OK" : DcgmErrors.name(found.code());
            int value = found == null ? 0 : found.failed() ? 20 : 10;
            sb.append(name).append(prefix).append(",health_watch=\"").append(watch).append("\",health_error_code=\"")
                    .append(code).append("\"} ").append(value).append('\n');
        }
        return true;
    }

    private static void appendXid(StringBuilder sb, MetricDef m, String prefix, OptionalInt xid) {
        int code = xid.orElse(0);
        sb.append(m.name()).append(prefix).append(",err_code=\"").append(code).append("\"} ").append(code).append('\n');
    }

    private static boolean appendValue(StringBuilder sb, MetricDef m, String prefix, double v) {
        if (Double.isNaN(v)) {
            return false;
        }
        sb.append(m.name()).append(prefix).append("} ");
        appendValue(sb, m.scale().apply(v));
        sb.append('\n');
        return true;
    }

    /**
     * Brings {@code p} up to date with {@code g}: the GPU's prefix, or its instances' while it has MIG devices.
     * {@code all} rebuilds them whatever changed (the decorator or the driver version did).
     */
    private void relabel(DevicePrefixes p, GpuSample g, String driverVersion, boolean all) {
        GpuInfo info = g.info();
        List<MigSample> migs = g.migDevices();
        if (!all && p.info == info && sameMigs(p.migs, migs)) {
            return;
        }
        p.info = info;
        p.migs = migs.isEmpty() ? List.of() : migs.stream().map(MigSample::info).toList();
        p.gpu = null;
        p.instanceCount = 0;
        if (!info.known()) {
            return;
        }
        if (migs.isEmpty()) {
            p.gpu = labels(info, null, driverVersion);
            return;
        }
        if (p.instances.length < migs.size()) {
            p.instances = new String[migs.size()];
            p.instanceFrom = new int[migs.size()];
            p.instanceTo = new int[migs.size()];
        }
        int from = 0;
        for (int c = 1; c <= migs.size(); c++) {
            if (c == migs.size() || migs.get(c).info().gpuInstanceId() != migs.get(from).info().gpuInstanceId()) {
                int j = p.instanceCount++;
                p.instanceFrom[j] = from;
                p.instanceTo[j] = c;
                p.instances[j] = labels(info, migs.subList(from, c), driverVersion);
                from = c;
            }
        }
    }

    /** Whether {@code migs} are the MIG devices {@code known} were (cheap: the reader keeps the same identities). */
    private static boolean sameMigs(List<MigInstance> known, List<MigSample> migs) {
        if (known.size() != migs.size()) {
            return false;
        }
        for (int c = 0; c < migs.size(); c++) {
            if (!known.get(c).equals(migs.get(c).info())) {
                return false;
            }
        }
        return true;
    }

    /** UTF-8 bytes of {@code sb} with one allocation when it is ASCII (names, labels and values nearly always are). */
    private static byte[] utf8(StringBuilder sb) {
        int n = sb.length();
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            char c = sb.charAt(i);
            if (c >= 0x80) {
                return sb.toString().getBytes(StandardCharsets.UTF_8);
            }
            out[i] = (byte) c;
        }
        return out;
    }

    /**
     * {@code {gpu="0",UUID="...",...,DCGM_FI_DRIVER_VERSION="..."[,fields][,extras]} without the closing brace;
     * for one GPU instance ({@code gpuInstance}: its MIG devices; null for the whole GPU) with
     * {@code GPU_I_PROFILE} and {@code GPU_I_ID} after {@code modelName}, where dcgm-exporter puts them.
     */
    private String labels(GpuInfo info, List<MigSample> gpuInstance, String driverVersion) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{gpu=\"").append(info.index()).append('"');
        label(sb, "UUID", info.uuid());
        label(sb, "pci_bus_id", info.pciBusId());
        label(sb, "device", info.deviceName());
        label(sb, "modelName", info.name());
        if (gpuInstance != null) {
            MigInstance first = gpuInstance.getFirst().info();
            label(sb, "GPU_I_PROFILE", first.profile());
            label(sb, "GPU_I_ID", Integer.toString(first.gpuInstanceId()));
        }
        label(sb, hostnameLabel, hostname);
        for (String driverLabel : driverLabels) {
            label(sb, driverLabel, driverVersion);
        }
        for (MetricDef f : labelFields) {
            String value = switch (f.dcgmFieldId()) {
                case MetricCatalog.FIELD_SERIAL -> info.serial();
                case MetricCatalog.FIELD_VBIOS -> info.vbiosVersion();
                default -> "";
            };
            label(sb, f.name(), value);
        }
        Map<String, String> extras = gpuInstance == null ? decorator.extraLabels(info) : instanceLabels(info, gpuInstance);
        for (Map.Entry<String, String> e : extras.entrySet()) {
            label(sb, e.getKey(), e.getValue());
        }
        return sb.toString();
    }

    /**
     * The decorator's labels for a GPU instance: those of its MIG devices, merged in compute instance order; a
     * label whose values differ (two jobs on two compute instances of one GPU instance) lists them, comma-separated.
     */
    private Map<String, String> instanceLabels(GpuInfo info, List<MigSample> gpuInstance) {
        Map<String, String> first = decorator.extraLabels(info, gpuInstance.getFirst().info());
        if (gpuInstance.size() == 1) {
            return first;
        }
        Map<String, String> merged = new LinkedHashMap<>(first);
        for (MigSample mig : gpuInstance.subList(1, gpuInstance.size())) {
            decorator.extraLabels(info, mig.info()).forEach((k, v) -> merged.merge(k, v,
                    (a, b) -> List.of(a.split(",", -1)).contains(b) ? a : a + "," + b));
        }
        return merged;
    }

    /** dcgm-exporter's DCGM_EXP_XID_ERRORS_TOTAL: one series per XID seen on the GPU, none before the first. */
    private static boolean appendXidTotals(StringBuilder sb, String name, String prefix, Map<Integer, Long> counts) {
        for (Map.Entry<Integer, Long> e : counts.entrySet()) {
            sb.append(name).append(prefix).append(",xid=\"").append(e.getKey()).append("\"} ").append(e.getValue())
                    .append('\n');
        }
        return !counts.isEmpty();
    }

    /**
     * dcgm-exporter's DCGM_EXP_CLOCK_EVENTS_TOTAL: one series per reason that has begun at least once (its
     * collector keeps no series for a reason before its first event), in bit order.
     */
    private static boolean appendClockEventTotals(StringBuilder sb, String name, String prefix, GpuSample g) {
        boolean any = false;
        for (ClockEvent e : ClockEvent.all()) {
            double v = g.raw(e.total());
            if (v > 0) {
                sb.append(name).append(prefix).append(",clock_event=\"").append(e.label()).append("\"} ");
                appendValue(sb, v);
                sb.append('\n');
                any = true;
            }
        }
        return any;
    }

    static void label(StringBuilder sb, String name, String value) {
        sb.append(',').append(name).append("=\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c);
            }
        }
        sb.append('"');
    }

    static void escapeHelp(StringBuilder sb, String help) {
        for (int i = 0; i < help.length(); i++) {
            char c = help.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c);
            }
        }
    }

    /** Integers without a fraction (as dcgm-exporter prints them), other values in Java's shortest form. */
    static void appendValue(StringBuilder sb, double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            sb.append((long) v);
        } else if (Double.isInfinite(v)) {
            sb.append(v > 0 ? "+Inf" : "-Inf");
        } else {
            sb.append(v);
        }
    }
}
