package io.gpuagent.agent.kubelet;

import io.gpuagent.agent.kubelet.podresources.AllocatableResourcesResponse;
import io.gpuagent.agent.kubelet.podresources.ClaimResource;
import io.gpuagent.agent.kubelet.podresources.ContainerDevices;
import io.gpuagent.agent.kubelet.podresources.ContainerResources;
import io.gpuagent.agent.kubelet.podresources.DynamicResource;
import io.gpuagent.agent.kubelet.podresources.ListPodResourcesResponse;
import io.gpuagent.exporter.GpuSample;
import io.gpuagent.exporter.MigInstance;
import io.gpuagent.exporter.MigSample;
import io.gpuagent.exporter.Snapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns one kubelet answer into a {@link PodMap}: which containers hold which GPU or MIG device, keyed by the
 * UUID NVML gives it. Pure: the GPUs' minor numbers and MIG layout come from the latest snapshot, never from NVML.
 *
 * <p>Device-plugin devices count when their resource name is one of the configured GPU resources. Their ids are
 * read in the form {@link GpuIdType} names:
 * <ul>
 *   <li>{@code uid}: {@code GPU-<uuid>} and {@code MIG-<uuid>} as they are; a time-slicing replica suffix
 *       {@code ::N} is dropped (every replica is the same GPU).</li>
 *   <li>{@code device-name}: {@code nvidiaN} is the GPU with minor number N (its index when the minor number is
 *       unknown); {@code nvidiaN/giM} is every MIG device of that GPU's GPU instance M; a GKE sharing suffix
 *       {@code /vgpuK} is dropped.</li>
 * </ul>
 * DRA allocations ({@code dynamic_resources}) of the NVIDIA DRA driver ({@code gpu.nvidia.com}) count in either
 * mode: a device name that is a {@code GPU-} or {@code MIG-} UUID, {@code gpu-N} (minor number N), or
 * {@code gpu-N-mig-P-S-Z} (the MIG device of GPU N with profile id P at placement start S, Z slices), and a CDI
 * device whose name after {@code =} is such a UUID. Ids in no known form, or naming no device of the snapshot,
 * are counted as unresolved and otherwise ignored; so are containers whose names exceed Kubernetes' limits (they
 * would become labels).
 */
public final class PodMapping {

    /** The NVIDIA DRA driver's name in a claim's allocation. */
    public static final String DRA_DRIVER = "gpu.nvidia.com";

    private static final Pattern GKE_GPU = Pattern.compile("nvidia(\\d{1,4})");
    private static final Pattern GKE_MIG = Pattern.compile("nvidia(\\d{1,4})/gi(\\d{1,4})");
    private static final Pattern DRA_GPU = Pattern.compile("gpu-(\\d{1,4})");
    private static final Pattern DRA_MIG = Pattern.compile("gpu-(\\d{1,4})-mig-(\\d{1,4})-(\\d{1,4})-(\\d{1,4})");

    /** A map and how many device ids in the answer named nothing this node has (or no known form). */
    public record Result(PodMap map, int unresolved) {
    }

    private final List<String> resourceNames;
    private final GpuIdType idType;

    /** {@code resourceNames}: exact names, or prefixes ending in {@code *}. */
    public PodMapping(List<String> resourceNames, GpuIdType idType) {
        this.resourceNames = List.copyOf(resourceNames);
        this.idType = Objects.requireNonNull(idType, "idType");
        for (String name : this.resourceNames) {
            if (name.isBlank() || name.indexOf('*') >= 0 && name.indexOf('*') != name.length() - 1) {
                throw new IllegalArgumentException("gpu-agent.kubelet.resource-names: '" + name
                        + "' is neither a resource name nor a prefix ending in *");
            }
        }
    }

    public GpuIdType idType() {
        return idType;
    }

    /** Whether the extended resource {@code name} is a GPU resource. */
    public boolean isGpuResource(String name) {
        for (String pattern : resourceNames) {
            if (pattern.endsWith("*") ? name.startsWith(pattern.substring(0, pattern.length() - 1))
                    : name.equals(pattern)) {
                return true;
            }
        }
        return false;
    }

    public Result map(ListPodResourcesResponse answer, Snapshot snapshot) {
        return map(answer, Optional.empty(), snapshot);
    }

    /**
     * {@code offered}: the kubelet's allocatable devices, when it answered that call; their GPU resources' ids are
     * read as the held ones are, and the map says which of this node's devices are offered.
     */
    public Result map(ListPodResourcesResponse answer, Optional<AllocatableResourcesResponse> offered,
                      Snapshot snapshot) {
        Optional<Set<String>> allocatable = offered.map(o -> {
            Set<String> uuids = new LinkedHashSet<>();
            for (ContainerDevices devices : o.getDevicesList()) {
                if (isGpuResource(devices.getResourceName())) {
                    for (String id : devices.getDeviceIdsList()) {
                        uuids.addAll(pluginDevice(id, snapshot));
                    }
                }
            }
            return uuids;
        });
        Map<String, Set<PodRef>> byDevice = new LinkedHashMap<>();
        int unresolved = 0;
        for (var pod : answer.getPodResourcesList()) {
            for (ContainerResources container : pod.getContainersList()) {
                if (!kubernetesNames(pod.getNamespace(), pod.getName(), container.getName())) {
                    unresolved++;   // not names the kubelet gives: they would become labels of any length
                    continue;
                }
                PodRef ref = new PodRef(pod.getNamespace(), pod.getName(), container.getName(), "");
                Set<String> held = new LinkedHashSet<>();
                for (ContainerDevices devices : container.getDevicesList()) {
                    if (!isGpuResource(devices.getResourceName())) {
                        continue;
                    }
                    for (String id : devices.getDeviceIdsList()) {
                        List<String> uuids = pluginDevice(id, snapshot);
                        unresolved += uuids.isEmpty() ? 1 : 0;
                        held.addAll(uuids);
                    }
                }
                for (DynamicResource claim : container.getDynamicResourcesList()) {
                    for (ClaimResource device : claim.getClaimResourcesList()) {
                        if (!device.getDriverName().equals(DRA_DRIVER)) {
                            continue;
                        }
                        List<String> uuids = draDevice(device, snapshot);
                        unresolved += uuids.isEmpty() ? 1 : 0;
                        held.addAll(uuids);
                    }
                }
                for (String uuid : held) {
                    byDevice.computeIfAbsent(uuid, u -> new LinkedHashSet<>()).add(ref);
                }
            }
        }
        Map<String, List<PodRef>> lists = new LinkedHashMap<>();
        byDevice.forEach((uuid, refs) -> lists.put(uuid, new ArrayList<>(refs)));
        return new Result(new PodMap(lists, allocatable), unresolved);
    }

    /** A device-plugin id in this mapping's form: the UUIDs it names on this node, or none. */
    List<String> pluginDevice(String id, Snapshot snapshot) {
        return switch (idType) {
            case UID -> {
                int replica = id.indexOf("::");
                String uuid = replica >= 0 ? id.substring(0, replica) : id;
                yield isUuid(uuid) && known(uuid, snapshot) ? List.of(uuid) : List.of();
            }
            case DEVICE_NAME -> {
                int shared = id.indexOf("/vgpu");
                String name = shared >= 0 ? id.substring(0, shared) : id;
                Matcher mig = GKE_MIG.matcher(name);
                if (mig.matches()) {
                    yield gpuByMinor(snapshot, Integer.parseInt(mig.group(1)))
                            .map(gpu -> migUuids(gpu, m -> m.gpuInstanceId() == Integer.parseInt(mig.group(2))))
                            .orElse(List.of());
                }
                Matcher whole = GKE_GPU.matcher(name);
                yield whole.matches() ? gpuByMinor(snapshot, Integer.parseInt(whole.group(1)))
                        .map(gpu -> List.of(gpu.uuid())).orElse(List.of()) : List.of();
            }
        };
    }

    /** A DRA device of the NVIDIA driver: the UUIDs it names on this node, or none. */
    List<String> draDevice(ClaimResource device, Snapshot snapshot) {
        String name = device.getDeviceName();
        if (isUuid(name)) {
            return known(name, snapshot) ? List.of(name) : List.of();
        }
        Matcher mig = DRA_MIG.matcher(name);
        if (mig.matches()) {
            int profile = Integer.parseInt(mig.group(2));
            int start = Integer.parseInt(mig.group(3));
            int slices = Integer.parseInt(mig.group(4));
            return gpuByMinor(snapshot, Integer.parseInt(mig.group(1)))
                    .map(gpu -> migUuids(gpu, m -> m.profileId() == profile && m.placementStart() == start
                            && m.slices() == slices))
                    .orElse(List.of());
        }
        Matcher whole = DRA_GPU.matcher(name);
        if (whole.matches()) {
            return gpuByMinor(snapshot, Integer.parseInt(whole.group(1))).map(gpu -> List.of(gpu.uuid()))
                    .orElse(List.of());
        }
        for (var cdi : device.getCdiDevicesList()) {
            String cdiName = cdi.getName();
            String id = cdiName.substring(cdiName.indexOf('=') + 1);
            if (isUuid(id) && known(id, snapshot)) {
                return List.of(id);
            }
        }
        return List.of();
    }

    /** Within Kubernetes' limits: a namespace and a container name are DNS labels (63), a pod name a subdomain (253). */
    private static boolean kubernetesNames(String namespace, String pod, String container) {
        return !namespace.isEmpty() && namespace.length() <= 63 && !pod.isEmpty() && pod.length() <= 253
                && !container.isEmpty() && container.length() <= 63;
    }

    private static boolean isUuid(String id) {
        return id.startsWith("GPU-") || id.startsWith("MIG-");
    }

    /** Whether the snapshot has this GPU or MIG device: the map stays bounded by what the node has. */
    private static boolean known(String uuid, Snapshot snapshot) {
        for (GpuSample gpu : snapshot.gpus()) {
            if (gpu.uuid().equals(uuid) || gpu.migDevice(uuid) != null) {
                return true;
            }
        }
        return false;
    }

    /** The GPU with minor number {@code minor}; its index when no GPU reports minor numbers. */
    private static Optional<GpuSample> gpuByMinor(Snapshot snapshot, int minor) {
        Optional<GpuSample> byMinor = snapshot.gpus().stream()
                .filter(g -> g.info().minorNumber() == minor && !g.uuid().isEmpty()).findFirst();
        if (byMinor.isPresent()) {
            return byMinor;
        }
        return snapshot.gpus().stream()
                .filter(g -> g.info().minorNumber() < 0 && g.index() == minor && !g.uuid().isEmpty()).findFirst();
    }

    private static List<String> migUuids(GpuSample gpu, java.util.function.Predicate<MigInstance> which) {
        List<String> uuids = new ArrayList<>();
        for (MigSample mig : gpu.migDevices()) {
            if (which.test(mig.info())) {
                uuids.add(mig.uuid());
            }
        }
        return uuids;
    }
}
